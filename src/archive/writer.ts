import { rm } from "node:fs/promises";
import type { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { encryptor } from "../encryption/age-encrypt.ts";
import type { Sealed } from "../encryption/age-header.ts";
import { OperationError, systemErrorText } from "../util/errors.ts";
import { tempPathFor } from "../util/fs-safe.ts";
import { ArchiveFile, ArchiveSource } from "./archive-file.ts";
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
 * Compresses a tar stream into a temporary file beside `dest`, synced to disk, and seals it with
 * age when `sealed` is given. It gets its final name only together with its manifest (publish.ts).
 * The file goes on any failure.
 */
export async function writeArchive(
  tar: Readable,
  dest: string,
  compression: Compression,
  signal?: AbortSignal,
  sealed?: Sealed,
): Promise<WrittenArchive> {
  const squeeze = compressor(compression);
  const owned = squeeze instanceof ParallelZstdCompress;
  const seal = sealed ? [await encryptor(sealed, { ownsInput: owned })] : [];
  return writeThrough(tar, [squeeze, ...seal], dest, owned || sealed !== undefined, signal);
}

/** A file someone else wrote (a lifecycle script's archive) sealed with age into a temporary file beside `dest`. */
export async function sealFile(
  file: string,
  dest: string,
  sealed: Sealed,
  signal?: AbortSignal,
): Promise<WrittenArchive> {
  return writeThrough(new ArchiveSource(file), [await encryptor(sealed)], dest, true, signal);
}

async function writeThrough(
  source: Readable,
  transforms: Transform[],
  dest: string,
  ownsChunks: boolean,
  signal?: AbortSignal,
): Promise<WrittenArchive> {
  const tmp = tempPathFor(dest);
  const out = new ArchiveFile(tmp, { ownsChunks });
  let fileError: unknown;
  out.once("error", (e) => {
    fileError = e;
  });
  try {
    await pipeline([source, ...transforms, out], { signal });
  } catch (e) {
    await rm(tmp, { force: true });
    // Node's bare "ENOSPC: no space left on device, write" names neither the step nor the file.
    throw e === fileError && !signal?.aborted ? new OperationError(`${systemErrorText(e)} writing ${dest}`) : e;
  }
  return { file: tmp, bytes: out.written, sha256: out.sha256 };
}
