import { availableParallelism } from "node:os";
import { Transform, type TransformCallback } from "node:stream";
import * as zlib from "node:zlib";

/** Big enough that frame overhead and lost cross-frame matches cost well under 1 %. */
const FRAME = 4 << 20;

function compressFrame(data: Buffer, level: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    zlib.zstdCompress(data, { params: { [zlib.constants.ZSTD_c_compressionLevel]: level, [zlib.constants.ZSTD_c_checksumFlag]: 1 } }, (e, out) => (e ? reject(e) : resolve(out))),
  );
}

/**
 * zstd on every core: the stream is cut into 4 MiB pieces, each compressed as an independent
 * frame on the runtime's thread pool, written in order. Concatenated frames are one valid
 * zstd stream (`zstd -d`, `tar --zstd`). Used because zstd's own worker threads crash in Bun.
 */
export class ParallelZstd extends Transform {
  private pending: Buffer[] = [];
  private size = 0;
  private readonly queue: Promise<Buffer>[] = [];

  constructor(
    private readonly level: number,
    private readonly inFlight = availableParallelism() + 1,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    this.size += chunk.length;
    if (this.size < FRAME) return done();
    this.submit();
    if (this.queue.length < this.inFlight) return done();
    this.emitOldest().then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    if (this.size > 0) this.submit();
    (async () => {
      while (this.queue.length > 0) await this.emitOldest();
    })().then(() => done(), done);
  }

  private submit(): void {
    const frame = compressFrame(Buffer.concat(this.pending, this.size), this.level);
    // Awaited in order later; this only keeps an early failure from counting as unhandled.
    frame.catch(() => undefined);
    this.queue.push(frame);
    this.pending = [];
    this.size = 0;
  }

  private async emitOldest(): Promise<void> {
    this.push(await this.queue.shift()!);
  }
}
