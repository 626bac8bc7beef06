import { open } from "node:fs/promises";
import { AgeHeaderError, fileKeyOf, headerLength, MAX_HEADER_BYTES, type OpeningKeys } from "./age-header.ts";
import { CHUNK_BYTES, openFirstChunk } from "./age-payload.ts";

/** The start of an age file: its header, the payload's nonce and first chunk, as far as the file goes. */
async function start(file: string): Promise<{ bytes: Buffer; header: number; whole: boolean }> {
  const fh = await open(file, "r");
  try {
    const size = (await fh.stat()).size;
    const want = Math.min(size, MAX_HEADER_BYTES + 16 + CHUNK_BYTES + 16);
    const bytes = Buffer.alloc(want);
    const { bytesRead } = await fh.read(bytes, 0, want, 0);
    const header = headerLength(bytes.subarray(0, bytesRead));
    if (header === undefined) throw new AgeHeaderError("it ends within its age header (truncated)", "damaged");
    return { bytes: bytes.subarray(0, bytesRead), header, whole: bytesRead === size };
  } finally {
    await fh.close();
  }
}

/** Whether `keys` open the file's header: throws AgeHeaderError ("no-key" or "damaged") when not. */
export async function checkOpens(file: string, keys: OpeningKeys): Promise<void> {
  const { bytes, header } = await start(file);
  await fileKeyOf(bytes.subarray(0, header), keys);
}

/** The first bytes of the content (a decompressor's choice depends on them), decrypted. */
export async function plaintextHead(file: string, keys: OpeningKeys): Promise<Buffer> {
  const { bytes, header, whole } = await start(file);
  const fileKey = await fileKeyOf(bytes.subarray(0, header), keys);
  return openFirstChunk(fileKey, bytes.subarray(header), whole);
}
