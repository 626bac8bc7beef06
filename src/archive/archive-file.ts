import { type FileHandle, open } from "node:fs/promises";
import { Readable, Writable } from "node:stream";
import { FileWriter } from "../system/file-writer.ts";
import { type CacheHints, cacheHints, NO_HINTS } from "../system/page-cache.ts";
import { FILE_MODE } from "../util/fs-safe.ts";
import { markDisposable } from "../util/release.ts";

/** The page cache is given back in windows of this size, written and read alike. */
const WINDOW = 8 << 20;
const READ_BYTES = 1 << 20;

type Done = (e?: Error | null) => void;

function closeThen(fh: FileHandle | undefined, error: Error | null, done: Done): void {
  (fh ? fh.close() : Promise.resolve()).then(
    () => done(error),
    (e: Error) => done(error ?? e),
  );
}

/** Bytes handed to the writer thread and not yet written, before the stream waits. */
const IN_FLIGHT = 4 << 20;

/**
 * The archive file being written, private (0600), hashed and written on a thread of its own
 * (file-writer.ts says why), finished only once it is synced to disk. Each window written is
 * handed to writeback and then dropped from the page cache, on the hint thread (page-cache.ts
 * says why): what the disk has not taken yet simply stays until the sync. `ownsChunks`: the
 * stream before this one never touches a chunk again, so its memory moves without a copy.
 */
export class ArchiveFile extends Writable {
  /** The sha256 of the whole file, once it is finished. */
  sha256 = "";
  written = 0;
  private writer?: FileWriter;
  private readonly hints = cacheHints();
  private handedOver = 0;
  private inFlight = 0;
  private drained: (() => void) | undefined;

  constructor(
    private readonly path: string,
    private readonly opts: { ownsChunks?: boolean } = {},
  ) {
    super({ highWaterMark: 1 << 20 });
  }

  override _construct(done: Done): void {
    FileWriter.open(this.path, FILE_MODE).then((writer) => {
      this.writer = writer;
      done();
    }, done);
  }

  /** Accepts the next chunk at once unless IN_FLIGHT bytes are still waiting to be written. */
  override _write(chunk: Buffer, _e: BufferEncoding, done: Done): void {
    const length = chunk.length;
    this.inFlight += length;
    const write = this.writer!.write(chunk, this.opts.ownsChunks === true).then(() => {
      this.inFlight -= length;
      this.written += length;
      this.handOver();
      if (this.inFlight < IN_FLIGHT) this.drained?.();
    });
    write.catch((e: Error) => this.destroy(e));
    if (this.inFlight < IN_FLIGHT) return done();
    this.drained = () => {
      this.drained = undefined;
      done();
    };
  }

  /** The writer thread answers in order: `finish` resolves after every write (or fails with the first failure). */
  override _final(done: Done): void {
    this.writer!.finish()
      .then((sha256) => {
        this.sha256 = sha256;
        this.hints.drop(this.path, 0, 0);
        return this.hints.settled();
      })
      .then(() => done(), done);
  }

  override _destroy(error: Error | null, done: Done): void {
    (this.writer ? this.writer.close() : Promise.resolve()).then(() => done(error));
  }

  private handOver(): void {
    if (this.written - this.handedOver < WINDOW) return;
    this.hints.writeBackAndDrop(this.path, this.handedOver, this.written - this.handedOver);
    this.handedOver = this.written;
  }
}

/**
 * An archive file read from start to end (verify, restore), each read a fresh chunk marked
 * disposable (release.ts), that leaves the page cache as it found it: what has been read is
 * dropped, so the reads ahead land in pages just freed. Unless `keepCached`: a restore
 * verifies the archive first, and its extraction should not read the disk a second time.
 */
export class ArchiveSource extends Readable {
  private fh?: FileHandle;
  private readonly hints: CacheHints;
  private position = 0;
  private dropped = 0;

  constructor(
    private readonly path: string,
    opts: { keepCached?: boolean } = {},
  ) {
    super({ highWaterMark: READ_BYTES });
    this.hints = opts.keepCached ? NO_HINTS : cacheHints();
  }

  override _construct(done: Done): void {
    open(this.path, "r").then((fh) => {
      this.fh = fh;
      done();
    }, done);
  }

  override _read(): void {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    this.fh!.read(buf, 0, READ_BYTES, this.position).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) {
          this.hints.drop(this.path, this.dropped, 0); // to the end, read-ahead included
          return void this.push(null);
        }
        this.position += bytesRead;
        markDisposable(buf);
        if (this.position - this.dropped >= WINDOW) {
          this.hints.drop(this.path, this.dropped, this.position - this.dropped);
          this.dropped = this.position;
        }
        this.push(buf.subarray(0, bytesRead));
      },
      (e: Error) => this.destroy(e),
    );
  }

  /** Only drops are queued for a file read, each quick: the process may wait for them. */
  override _destroy(error: Error | null, done: Done): void {
    this.hints.settled().then(() => closeThen(this.fh, error, done));
  }
}
