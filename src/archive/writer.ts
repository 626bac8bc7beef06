import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { compressor } from "./compress.ts";
import type { Compression } from "./naming.ts";
import { FILE_MODE, syncDir, tempPathFor } from "../util/fs-safe.ts";
import { dirname } from "node:path";

export interface WrittenArchive {
  file: string;
  bytes: number;
  sha256: string;
}

/** Hashes and counts what passes, without copying it. */
class Digest extends Transform {
  readonly hash = createHash("sha256");
  bytes = 0;
  override _transform(chunk: Buffer, _e: BufferEncoding, done: (e?: Error | null, d?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/**
 * Compresses a tar stream into `file`: written under a temporary name, synced, then renamed,
 * so no half-written archive ever carries a final name. The temporary file goes on any failure.
 */
export async function writeArchive(tar: Readable, file: string, compression: Compression, signal?: AbortSignal): Promise<WrittenArchive> {
  const tmp = tempPathFor(file);
  const digest = new Digest();
  try {
    const out = createWriteStream(tmp, { mode: FILE_MODE, highWaterMark: 1 << 20 });
    await pipeline(tar, compressor(compression), digest, out, { signal });
    const fh = await open(tmp, "r+");
    await fh.sync().finally(() => fh.close());
    await rename(tmp, file);
    await syncDir(dirname(file));
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return { file, bytes: digest.bytes, sha256: digest.hash.digest("hex") };
}
