import { Transform, type TransformCallback } from "node:stream";
import { consumed } from "../util/release.ts";
import { AgeHeaderError, fileKeyOf, headerLength, type OpeningKeys } from "./age-header.ts";
import {
  CHUNK_BYTES,
  CHUNKS_PER_PIECE,
  ChunkNonces,
  damaged,
  NONCE_BYTES,
  Pieces,
  payloadKey,
  SEALED_BYTES,
} from "./age-payload.ts";
import { type Aead, aead, TAG_BYTES } from "./chacha.ts";

/** Decrypts an age file; its header is opened with `keys`, and any damage fails the stream. */
export class AgeDecrypt extends Transform {
  private head: Buffer[] = [];
  private headBytes = 0;
  private key: Uint8Array | undefined;
  private readonly nonces = new ChunkNonces();
  private readonly sealed = Buffer.allocUnsafe(SEALED_BYTES);
  private fill = 0;
  /** Ciphertext bytes opened so far, for the message about where the damage is. */
  private offset = 0;
  private readonly out: Pieces;

  constructor(
    private readonly keys: OpeningKeys,
    private readonly cipher: Aead,
  ) {
    super({ highWaterMark: 1 << 20 });
    this.out = new Pieces(this, CHUNKS_PER_PIECE * CHUNK_BYTES);
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, done: TransformCallback): void {
    if (this.key) return this.payload(chunk, 0, done);
    this.head.push(Buffer.from(chunk));
    this.headBytes += chunk.length;
    consumed(chunk);
    this.begin().then(
      (start) => (start === undefined ? done() : this.payload(Buffer.concat(this.head), start, done)),
      done,
    );
  }

  /** Once the header and the nonce are in, the payload key and where the payload starts. */
  private async begin(): Promise<number | undefined> {
    const whole = Buffer.concat(this.head);
    const length = headerLength(whole);
    if (length === undefined || whole.length < length + NONCE_BYTES) return undefined;
    const fileKey = await fileKeyOf(whole.subarray(0, length), this.keys);
    this.key = payloadKey(fileKey, whole.subarray(length, length + NONCE_BYTES));
    this.offset = length + NONCE_BYTES;
    return this.offset;
  }

  private payload(chunk: Buffer, from: number, done: TransformCallback): void {
    try {
      for (let at = from; at < chunk.length; ) {
        if (this.fill === SEALED_BYTES) this.open(false);
        const n = chunk.copy(this.sealed, this.fill, at);
        this.fill += n;
        at += n;
      }
    } catch (e) {
      return done(e as Error);
    }
    if (from === 0) consumed(chunk);
    else this.head = [];
    done();
  }

  override _flush(done: TransformCallback): void {
    try {
      if (!this.key) throw new AgeHeaderError(`it ends within its age header (truncated)`, "damaged");
      if (this.fill < TAG_BYTES) throw damaged("it ends within a chunk (truncated)");
      if (this.fill === TAG_BYTES && !this.nonces.first) throw damaged("its last chunk is empty");
      this.open(true);
      this.out.flush();
      done();
    } catch (e) {
      done(e as Error);
    }
  }

  private open(last: boolean): void {
    const length = this.fill - TAG_BYTES;
    const sealed = this.sealed.subarray(0, this.fill);
    const into = this.out.room(length);
    if (!this.cipher.open(this.key!, this.nonces.nonce(last), sealed, into)) throw this.failure(last, sealed, into);
    this.nonces.advance();
    this.out.wrote(length);
    this.offset += this.fill;
    this.fill = 0;
  }

  private failure(last: boolean, sealed: Buffer, into: Buffer): Error {
    // A file cut after a whole chunk: that chunk opens, but as one that is not the last.
    if (last && this.cipher.open(this.key!, this.nonces.nonce(false), sealed, into))
      return damaged("it ends after a chunk that is not its last (truncated)");
    return damaged(`its content does not authenticate at byte ${this.offset} (damaged or altered)`);
  }
}

export async function decryptor(keys: OpeningKeys): Promise<AgeDecrypt> {
  return new AgeDecrypt(keys, await aead());
}
