/**
 * zstd on Bun's thread pool: the stream is cut into independent frames, compressed (or
 * decompressed) in parallel and emitted in order. Concatenated frames are one valid zstd stream
 * that any zstd reads. node:zlib's streaming zstd is several times slower (docs/design.md).
 */
import { Transform, type TransformCallback } from "node:stream";
import { threadPoolZstd } from "../system/runtime.ts";
import { consumed, markDisposable, release } from "../util/release.ts";
import { looksIncompressible, storedFrame } from "./stored-frame.ts";
import { FrameScanner } from "./zstd-frame.ts";

export const FRAME_BYTES = 1 << 20;
/** Frames up to this size (content) are decompressed in parallel; ours are FRAME_BYTES. */
export const MAX_PARALLEL_FRAME = 8 << 20;
/** No frame within MAX_PARALLEL_FRAME compresses to more than this: larger means corrupt. */
const MAX_COMPRESSED_FRAME = 2 * MAX_PARALLEL_FRAME;
/** Jobs in flight: enough to keep both cores busy while the next frame is being read. */
const PARALLEL = 3;
/**
 * Runs jobs off the main thread and pushes their results in submission order. Every buffer
 * here is released as soon as it is used (release.ts), not left to the collector, which keeps
 * peak memory flat whatever the archive's size (docs/design.md).
 */
abstract class OrderedJobs extends Transform {
  private readonly jobs: { result: Promise<Uint8Array>; input: Buffer }[] = [];

  protected submit(result: Promise<Uint8Array>, input: Buffer): void {
    result.catch(() => undefined); // awaited in order below; a later failure must not go unhandled first
    this.jobs.push({ result, input });
  }

  /** Called with each job's input and result once the job is done, before the result is pushed. */
  protected abstract finished(input: Buffer, result: Uint8Array): void;

  protected settle(keep: number, done: TransformCallback): void {
    (async () => {
      while (this.jobs.length > keep) {
        const job = this.jobs.shift()!;
        const result = await job.result;
        this.finished(job.input, result);
        this.push(result);
      }
    })().then(
      () => done(),
      (e: Error) => done(e),
    );
  }
}

/** Each frame it pushes is a fresh buffer it never touches again (ArchiveFile's `ownsChunks`). */
export class ParallelZstdCompress extends OrderedJobs {
  /** Frame buffers are reused: fresh allocations cost a page fault per 4 KiB. */
  private readonly pool: Buffer[] = [];
  private buf: Buffer = Buffer.allocUnsafe(FRAME_BYTES);
  private fill = 0;

  constructor(private readonly level: number) {
    super({ highWaterMark: FRAME_BYTES });
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    for (let at = 0; at < chunk.length; ) {
      const n = chunk.copy(this.buf, this.fill, at);
      this.fill += n;
      at += n;
      if (this.fill === FRAME_BYTES) this.cut();
    }
    consumed(chunk);
    this.settle(PARALLEL - 1, done);
  }

  override _flush(done: TransformCallback): void {
    if (this.fill > 0) this.cut();
    this.settle(0, done);
  }

  /** The input frame is ours to reuse; the result moves to the file's thread, which releases it. */
  protected override finished(input: Buffer): void {
    this.pool.push(input);
  }

  private cut(): void {
    const frame = this.buf.subarray(0, this.fill);
    const stored = looksIncompressible(frame, this.level);
    this.submit(stored ? Promise.resolve(storedFrame(frame)) : threadPoolZstd.compress(frame, this.level), this.buf);
    this.buf = this.pool.pop() ?? Buffer.allocUnsafe(FRAME_BYTES);
    this.fill = 0;
  }
}

/**
 * The last reader of its input chunks: each is released once copied into frames (release.ts).
 * Its results are fresh and marked disposable for the stage that sends or reads them last.
 */
export class ParallelZstdDecompress extends OrderedJobs {
  private readonly scanner = new FrameScanner();
  private parts: Buffer[] = [];
  private partBytes = 0;

  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    let from = 0;
    const copied: Buffer[] = [];
    try {
      for (const { end, skippable, contentSize } of this.scanner.scan(chunk)) {
        // Bounds what one job may inflate to: a forged frame must not decompress to gigabytes.
        if (!skippable && !(contentSize !== undefined && contentSize <= MAX_PARALLEL_FRAME))
          throw new Error("zstd frame without a small declared size: the archive is corrupt or not ours");
        this.parts.push(chunk.subarray(from, end));
        const frame = Buffer.concat(this.parts);
        if (!skippable) this.submit(threadPoolZstd.decompress(frame), frame);
        copied.push(...this.parts);
        this.parts = [];
        this.partBytes = 0;
        from = end;
      }
      if (from < chunk.length) this.parts.push(chunk.subarray(from));
      this.partBytes += chunk.length - from;
      if (this.partBytes > MAX_COMPRESSED_FRAME)
        throw new Error("zstd frame larger than any this tool writes: the archive is corrupt or not ours");
    } catch (e) {
      return done(e as Error);
    }
    for (const part of copied) consumed(part);
    this.settle(PARALLEL - 1, done);
  }

  protected override finished(frame: Buffer, result: Uint8Array): void {
    release(frame);
    markDisposable(result);
  }

  override _flush(done: TransformCallback): void {
    if (!this.scanner.atBoundary) return done(new Error("zstd stream ended in the middle of a frame (truncated)"));
    this.settle(0, done);
  }
}
