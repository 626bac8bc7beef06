/**
 * age v1's payload as Node streams: a 16-byte nonce, then the data in 64 KiB chunks, each sealed
 * with ChaCha20-Poly1305 under a key derived from the file key and that nonce, the chunk's number
 * and a flag on the last one in its own nonce (age-encryption.org/v1, "Payload"). A file cut at a
 * chunk boundary, chunks swapped or a byte changed all fail to open.
 */
import { hkdfSync, randomBytes } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { consumed, markDisposable, release } from "../util/release.ts";
import { AgeHeaderError, fileKeyOf, headerLength, type OpeningKeys, type Sealed } from "./age-header.ts";
import { type Aead, aead, TAG_BYTES } from "./chacha.ts";

export const CHUNK_BYTES = 64 * 1024;
const SEALED_BYTES = CHUNK_BYTES + TAG_BYTES;
const NONCE_BYTES = 16;
/** Chunks gathered into one piece of output: a stream chunk per 64 KiB would cost more than the cipher. */
const CHUNKS_PER_PIECE = 16;

function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", fileKey, nonce, "payload", 32));
}

/** The chunk nonces: an 11-byte big-endian counter, then 1 on the last chunk. */
class ChunkNonces {
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
class Pieces {
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
      if (this.fill === CHUNK_BYTES) this.seal(false);
      const n = chunk.copy(this.plain, this.fill, at);
      this.fill += n;
      at += n;
    }
    if (this.opts.ownsInput) release(chunk);
    done();
  }

  override _flush(done: TransformCallback): void {
    this.seal(true);
    this.out.flush();
    done();
  }

  private seal(last: boolean): void {
    const into = this.out.room(this.fill + TAG_BYTES);
    this.cipher.seal(this.key, this.nonces.nonce(last), this.plain.subarray(0, this.fill), into);
    this.nonces.advance();
    this.out.wrote(this.fill + TAG_BYTES);
    this.fill = 0;
  }
}

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

function damaged(text: string): AgeHeaderError {
  return new AgeHeaderError(text, "damaged");
}

/** The encrypter for a new archive, on the fastest cipher here. */
export async function encryptor(sealed: Sealed, opts: { ownsInput?: boolean } = {}): Promise<AgeEncrypt> {
  return new AgeEncrypt(sealed, await aead(), opts);
}

export async function decryptor(keys: OpeningKeys): Promise<AgeDecrypt> {
  return new AgeDecrypt(keys, await aead());
}
