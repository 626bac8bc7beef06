import type { Transform } from "node:stream";
import { decryptor } from "../encryption/age-decrypt.ts";
import type { OpeningKeys } from "../encryption/age-header.ts";
import { plaintextHead } from "../encryption/sealed-file.ts";
import { fileHead, openDecompressor } from "./compress.ts";
import type { Manifest } from "./manifest.ts";

/**
 * What turns an archive file's bytes back into its tar stream: the decompressor, after age's
 * decryption when the archive is sealed (`keys` are then required).
 */
export async function tarStages(file: string, archive: Manifest["archive"], keys?: OpeningKeys): Promise<Transform[]> {
  if (!archive.encryption) return [openDecompressor(await fileHead(file), archive.compression)];
  if (!keys) throw new Error(`${file} is encrypted and no key to open it was given`);
  const head = await plaintextHead(file, keys);
  return [await decryptor(keys), openDecompressor(head, archive.compression)];
}
