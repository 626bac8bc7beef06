import { randomBytes } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { release } from "../util/release.ts";
import type { Sealed } from "./age-header.ts";
import {
  CHUNK_BYTES,
  CHUNKS_PER_PIECE,
  ChunkNonces,
  NONCE_BYTES,
  Pieces,
  payloadKey,
  SEALED_BYTES,
} from "./age-payload.ts";
import { type Aead, aead, TAG_BYTES } from "./chacha.ts";

/**
 * Encrypts a stream into an age file for the header's recipients. `ownsInput`: the stage before
 * gives away each chunk (ParallelZstdCompress does), so it is freed once copied.
 */
export class AgeEncrypt extends Transform {
  private readonly nonces = new ChunkNonces();
  private readonly key: Uint8Array;
  private readonly plain = Buffer.allocUnsafe(CHUNK_BYTES);
  private fill = 0;
  private readonly out: Pieces;

  constructor(
    sealed: Sealed,
    private readonly cipher: Aead,
    private readonly opts: { ownsInput?: boolean } = {},
  ) {
    super({ highWaterMark: 1 << 20 });
    const nonce = randomBytes(NONCE_BYTES);
    this.key = payloadKey(sealed.fileKey, nonce);
    this.out = new Pieces(this, CHUNKS_PER_PIECE * SEALED_BYTES, Buffer.concat([sealed.header, nonce]));
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    for (let at = 0; at < chunk.length; ) {
      // A full chunk is sealed only once more data shows it is not the last.
      if (this.fill === CHUNK_BYTES) this.seal(this.plain, false);
      // Whole chunks with more data after them are sealed where they lie, without a copy.
      if (this.fill === 0 && chunk.length - at > CHUNK_BYTES) {
        this.seal(chunk.subarray(at, at + CHUNK_BYTES), false);
        at += CHUNK_BYTES;
        continue;
      }
      const n = chunk.copy(this.plain, this.fill, at);
      this.fill += n;
      at += n;
    }
    if (this.opts.ownsInput) release(chunk);
    done();
  }

  override _flush(done: TransformCallback): void {
    this.seal(this.plain, true);
    this.out.flush();
    done();
  }

  /** Seals the pending chunk (`this.plain`) or a whole one of the input. */
  private seal(from: Buffer, last: boolean): void {
    const plain = from === this.plain ? this.plain.subarray(0, this.fill) : from;
    const into = this.out.room(plain.length + TAG_BYTES);
    this.cipher.seal(this.key, this.nonces.nonce(last), plain, into);
    this.nonces.advance();
    this.out.wrote(plain.length + TAG_BYTES);
    if (from === this.plain) this.fill = 0;
  }
}

/** The encrypter for a new archive, on the fastest cipher here. */
export async function encryptor(sealed: Sealed, opts: { ownsInput?: boolean } = {}): Promise<AgeEncrypt> {
  return new AgeEncrypt(sealed, await aead(), opts);
}
