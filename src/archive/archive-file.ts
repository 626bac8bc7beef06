import { open, type FileHandle } from "node:fs/promises";
import { Readable, Writable } from "node:stream";
import { FILE_MODE } from "../util/fs-safe.ts";
import { cacheHints, type CacheHints } from "../util/page-cache.ts";

/** Each window written is handed to writeback at once (and each window read is dropped)... */
const WINDOW = 8 << 20;
/** ...and dropped from the cache two windows later, when the disk has had time to take it. */
const LAG = 2 * WINDOW;

/**
 * The archive file being written, private (0600), finished only once it is synced to disk. It
 * keeps only a few windows of itself in the page cache (page-cache.ts says why); the pages the
 * disk has not taken yet when their turn comes stay, and go after the final sync.
 */
export class ArchiveFile extends Writable {
  private fh?: FileHandle;
  private hints?: CacheHints;
  private written = 0;
  private handedOver = 0;
  private dropped = 0;

  constructor(private readonly path: string) {
    super({ highWaterMark: 1 << 20 });
  }

  override _construct(done: (e?: Error | null) => void): void {
    Promise.all([open(this.path, "w", FILE_MODE), cacheHints()]).then(([fh, hints]) => {
      this.fh = fh;
      this.hints = hints;
      done();
    }, done);
  }

  override _write(chunk: Buffer, _e: BufferEncoding, done: (e?: Error | null) => void): void {
    this.writeAll(chunk).then(() => done(), done);
  }

  override _final(done: (e?: Error | null) => void): void {
    this.fh!.sync().then(() => {
      this.hints!.drop(this.fh!.fd, 0, 0);
      done();
    }, done);
  }

  override _destroy(error: Error | null, done: (e?: Error | null) => void): void {
    const closed = this.fh ? this.fh.close() : Promise.resolve();
    closed.then(() => done(error), (e: Error) => done(error ?? e));
  }

  private async writeAll(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length; ) {
      const { bytesWritten } = await this.fh!.write(chunk, at, chunk.length - at, this.written);
      at += bytesWritten;
      this.written += bytesWritten;
    }
    if (this.written - this.handedOver < WINDOW) return;
    const fd = this.fh!.fd;
    this.hints!.startWriteback(fd, this.handedOver, this.written - this.handedOver);
    this.handedOver = this.written;
    if (this.handedOver - LAG > this.dropped) {
      this.hints!.drop(fd, this.dropped, this.handedOver - LAG - this.dropped);
      this.dropped = this.handedOver - LAG;
    }
  }
}

const READ_BYTES = 1 << 20;

/**
 * An archive file read from start to end (verify, restore) that leaves the page cache as it
 * found it: what has been read is dropped, so the reads ahead land in pages just freed.
 */
export class ArchiveSource extends Readable {
  private fh?: FileHandle;
  private hints?: CacheHints;
  private position = 0;
  private dropped = 0;

  constructor(private readonly path: string) {
    super({ highWaterMark: READ_BYTES });
  }

  override _construct(done: (e?: Error | null) => void): void {
    Promise.all([open(this.path, "r"), cacheHints()]).then(([fh, hints]) => {
      this.fh = fh;
      this.hints = hints;
      done();
    }, done);
  }

  override _read(): void {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    this.fh!.read(buf, 0, READ_BYTES, this.position).then(({ bytesRead }) => {
      if (bytesRead === 0) {
        this.hints!.drop(this.fh!.fd, this.dropped, 0); // to the end, read ahead included
        return void this.push(null);
      }
      this.position += bytesRead;
      if (this.position - this.dropped >= WINDOW) {
        this.hints!.drop(this.fh!.fd, this.dropped, this.position - this.dropped);
        this.dropped = this.position;
      }
      this.push(buf.subarray(0, bytesRead));
    }, (e: Error) => this.destroy(e));
  }

  override _destroy(error: Error | null, done: (e?: Error | null) => void): void {
    const closed = this.fh ? this.fh.close() : Promise.resolve();
    closed.then(() => done(error), (e: Error) => done(error ?? e));
  }
}
