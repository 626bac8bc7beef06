/**
 * Deterministic file content and tar headers for the generated volumes. The same seed always
 * gives the same bytes, so runs on different days (and machines) compress the same data.
 */
import { createCipheriv, createHash } from "node:crypto";

/** xorshift32: tiny and fast; quality is irrelevant for choosing words and sizes. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return this.s;
  }
  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
}

/**
 * Incompressible bytes: an AES-128-CTR keystream keyed by seed and file index. It is as random
 * as zstd or gzip can tell and runs at GB/s, so generation does not dominate the run.
 */
export function randomStream(seed: number, index: number) {
  const key = createHash("sha256").update(`tbbench:${seed}:${index}`).digest();
  const cipher = createCipheriv("aes-128-ctr", key.subarray(0, 16), key.subarray(16, 32));
  return (n: number): Buffer => cipher.update(Buffer.alloc(n));
}

const vocabulary: Buffer[] = (() => {
  const rnd = new Prng(20260115);
  const letters = "etaoinshrdlcumwfgypbvkjxqz";
  const words: Buffer[] = [];
  for (let i = 0; i < 4096; i++) {
    let w = "";
    // Skewed letter choice gives English-like letter frequencies, hence a realistic ratio.
    for (let n = rnd.int(2, 10); n > 0; n--) w += letters[Math.floor(rnd.float() ** 2 * letters.length)];
    words.push(Buffer.from(w));
  }
  return words;
})();

/**
 * Text-like bytes: log-ish lines of Zipf-skewed words with numbers mixed in. zstd -3 and
 * gzip -6 shrink it roughly 3-4x, like real logs, configs and JSON do.
 */
export function textStream(seed: number, index: number) {
  const rnd = new Prng(seed * 7919 + index * 104729 + 1);
  let carry = Buffer.alloc(0);
  return (n: number): Buffer => {
    const out = Buffer.allocUnsafe(n + 64);
    carry.copy(out, 0);
    let i = carry.length;
    while (i < n) {
      const r = rnd.next();
      if ((r & 63) === 0) {
        i += out.write(`${1700000000 + (r >>> 8)} `, i, "latin1");
        continue;
      }
      const w = vocabulary[Math.floor((r / 4294967296) ** 3 * vocabulary.length)]!;
      w.copy(out, i);
      i += w.length;
      out[i++] = (r & 0xf00) === 0 ? 10 : 32;
    }
    carry = Buffer.from(out.subarray(n, i));
    return out.subarray(0, n);
  };
}

/** Fixed mtime: content and metadata are both reproducible. */
const MTIME = 1767225600; // 2026-01-01T00:00:00Z

function octal(buf: Buffer, off: number, len: number, value: number): void {
  buf.write(value.toString(8).padStart(len - 1, "0") + "\0", off, len, "latin1");
}

/** A ustar header block; names stay under 100 bytes, so no prefix or PAX records are needed. */
export function tarHeader(name: string, size: number, dir: boolean): Buffer {
  if (Buffer.byteLength(name) > 99) throw new Error(`tar name too long: ${name}`);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, "utf8");
  octal(h, 100, 8, dir ? 0o755 : 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, MTIME);
  h.write(dir ? "5" : "0", 156, 1, "latin1");
  h.write("ustar\0" + "00", 257, 8, "latin1");
  h.write("root", 265, 32, "latin1");
  h.write("root", 297, 32, "latin1");
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "latin1");
  return h;
}

/** Zero bytes that round a file's data up to whole 512-byte blocks. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512);
}
