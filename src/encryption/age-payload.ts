/**
 * age v1's payload as Node streams: a 16-byte nonce, then the data in 64 KiB chunks, each sealed
 * with ChaCha20-Poly1305 under a key derived from the file key and that nonce, the chunk's number
 * and a flag on the last one in its own nonce (age-encryption.org/v1, "Payload"). A file cut at a
 * chunk boundary, chunks swapped or a byte changed all fail to open.
 */
import { hkdfSync } from "node:crypto";
import type { Transform } from "node:stream";
import { markDisposable } from "../util/release.ts";
import { AgeHeaderError } from "./age-header.ts";
import { aead, TAG_BYTES } from "./chacha.ts";

export const CHUNK_BYTES = 64 * 1024;
export const SEALED_BYTES = CHUNK_BYTES + TAG_BYTES;
export const NONCE_BYTES = 16;
/** Chunks gathered into one piece of output: a stream chunk per 64 KiB would cost more than the cipher. */
export const CHUNKS_PER_PIECE = 16;

export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", fileKey, nonce, "payload", 32));
}

/** The chunk nonces: an 11-byte big-endian counter, then 1 on the last chunk. */
export class ChunkNonces {
  private readonly bytes = new Uint8Array(12);
  private readonly view = new DataView(this.bytes.buffer);
  private counter = 0n;

  /** The current chunk's nonce, as the last chunk or not. */
  nonce(last: boolean): Uint8Array {
    this.view.setBigUint64(3, this.counter);
    this.bytes[11] = last ? 1 : 0;
    return this.bytes;
  }

  advance(): void {
    this.counter++;
  }

  get first(): boolean {
    return this.counter === 0n;
  }
}

/**
 * Output written in place and pushed a piece at a time, each piece a buffer of its own that
 * nothing here touches again, so the next stage may free or move it whole (release.ts).
 */
export class Pieces {
  private buf: Buffer;
  private fill = 0;

  constructor(
    private readonly stream: Transform,
    private readonly pieceBytes: number,
    prefix: Uint8Array = new Uint8Array(0),
  ) {
    this.buf = Buffer.allocUnsafe(pieceBytes + prefix.length);
    this.buf.set(prefix);
    this.fill = prefix.length;
  }

  /** Room for `bytes` more, pushing what is there first when they would not fit. */
  room(bytes: number): Buffer {
    if (this.fill + bytes > this.buf.length) this.flush();
    return this.buf.subarray(this.fill, this.fill + bytes);
  }

  wrote(bytes: number): void {
    this.fill += bytes;
  }

  flush(): void {
    if (this.fill === 0) return;
    const piece = this.fill === this.buf.length ? this.buf : this.buf.subarray(0, this.fill);
    markDisposable(piece);
    this.stream.push(piece);
    this.buf = Buffer.allocUnsafe(this.pieceBytes);
    this.fill = 0;
  }
}

export function damaged(text: string): AgeHeaderError {
  return new AgeHeaderError(text, "damaged");
}

/**
 * The first chunk of a payload (`payload`: the nonce and what follows it), decrypted; `whole`: the
 * payload ends where `payload` does, so a single chunk there is the last one.
 */
export async function openFirstChunk(fileKey: Uint8Array, payload: Uint8Array, whole: boolean): Promise<Buffer> {
  const cipher = await aead();
  const key = payloadKey(fileKey, payload.subarray(0, NONCE_BYTES));
  const sealed = payload.subarray(NONCE_BYTES, NONCE_BYTES + SEALED_BYTES);
  if (sealed.length < TAG_BYTES) throw damaged("it ends within a chunk (truncated)");
  const out = Buffer.alloc(sealed.length - TAG_BYTES);
  const last = whole && payload.length <= NONCE_BYTES + SEALED_BYTES;
  if (!cipher.open(key, new ChunkNonces().nonce(last), sealed, out))
    throw damaged("its first chunk does not authenticate");
  return out;
}
