import { rm } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { OperationError, systemErrorText } from "../util/errors.ts";
import { tempPathFor } from "../util/fs-safe.ts";
import { ArchiveFile } from "./archive-file.ts";
import { compressor } from "./compress.ts";
import type { Compression } from "./naming.ts";
import { ParallelZstdCompress } from "./parallel-zstd.ts";

export interface WrittenArchive {
  /** The temporary file holding the complete, synced archive; `publishBackup` names it. */
  file: string;
  bytes: number;
  sha256: string;
}

/**
 * Compresses a tar stream into a temporary file beside `dest`, synced to disk. It gets its final
 * name only together with its manifest (publish.ts). The file goes on any failure.
 */
export async function writeArchive(
  tar: Readable,
  dest: string,
  compression: Compression,
  signal?: AbortSignal,
): Promise<WrittenArchive> {
  const tmp = tempPathFor(dest);
  const squeeze = compressor(compression);
  const out = new ArchiveFile(tmp, { ownsChunks: squeeze instanceof ParallelZstdCompress });
  let fileError: unknown;
  out.once("error", (e) => {
    fileError = e;
  });
  try {
    await pipeline(tar, squeeze, out, { signal });
  } catch (e) {
    await rm(tmp, { force: true });
    // Node's bare "ENOSPC: no space left on device, write" names neither the step nor the file.
    throw e === fileError && !signal?.aborted ? new OperationError(`${systemErrorText(e)} writing ${dest}`) : e;
  }
  return { file: tmp, bytes: out.written, sha256: out.sha256 };
}
