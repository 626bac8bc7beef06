import { open } from "node:fs/promises";
import type { Transform } from "node:stream";
import * as zlib from "node:zlib";
import { hasThreadPoolZstd } from "../system/runtime.ts";
import type { Compression } from "./naming.ts";
import { MAX_PARALLEL_FRAME, ParallelZstdCompress, ParallelZstdDecompress } from "./parallel-zstd.ts";
import { declaredContentSize, MAGIC } from "./zstd-frame.ts";

/**
 * Level 1: on a small machine the backup is CPU-bound, and level 1 keeps pace with Docker's side
 * where level 3 does not, for an archive hardly larger (docs/design.md).
 */
const ZSTD_LEVEL = 1;

/** zstd: smaller than gzip -6 and several times faster; gzip for old tools. */
export function compressor(kind: Compression): Transform {
  if (kind === "gzip") return zlib.createGzip({ level: 6 });
  // Bun's thread-pool zstd is the fast path; any other runtime streams through node:zlib.
  if (hasThreadPoolZstd) return new ParallelZstdCompress(ZSTD_LEVEL);
  return zlib.createZstdCompress({
    params: { [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL, [zlib.constants.ZSTD_c_checksumFlag]: 1 },
  });
}

/**
 * The decompressor for an archive whose content starts with `head`. Archives cut into small
 * frames (ours, from Bun) decompress in parallel; one long frame (ours from Deno, or any zstd)
 * streams through node:zlib.
 */
export function openDecompressor(head: Buffer, kind: Compression): Transform {
  if (kind === "gzip") return zlib.createGunzip();
  if (hasThreadPoolZstd && startsWithSmallFrame(head)) return new ParallelZstdDecompress();
  return zlib.createZstdDecompress();
}

/** The bytes a decompressor's choice depends on. */
export const HEAD_BYTES = 18;

export async function fileHead(file: string): Promise<Buffer> {
  const fh = await open(file, "r");
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function startsWithSmallFrame(head: Buffer): boolean {
  if (head.length < 6 || head.readUInt32LE(0) !== MAGIC) return false;
  const size = declaredContentSize(head);
  return size !== undefined && size <= MAX_PARALLEL_FRAME;
}
