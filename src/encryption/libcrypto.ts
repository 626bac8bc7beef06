/**
 * ChaCha20-Poly1305 from the system's OpenSSL through bun:ffi: Bun's node:crypto lacks the cipher,
 * and the pure-JavaScript one is far slower than the rest of the backup's data path.
 */
import type { Aead } from "./aead.ts";

/** OpenSSL 3 and 1.1 on Linux; Homebrew's on macOS (the system's unversioned one aborts whoever loads it). */
const LIBRARIES = [
  "libcrypto.so.3",
  "libcrypto.so.1.1",
  "/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib",
  "/usr/local/opt/openssl@3/lib/libcrypto.3.dylib",
];

const EVP_CTRL_AEAD_GET_TAG = 0x10;
const EVP_CTRL_AEAD_SET_TAG = 0x11;
const TAG = 16;

type Pointer = number | bigint | null;
interface Symbols {
  EVP_CIPHER_CTX_new(): Pointer;
  EVP_chacha20_poly1305(): Pointer;
  EVP_CipherInit_ex(
    ctx: Pointer,
    cipher: Pointer,
    engine: null,
    key: Uint8Array | null,
    iv: Uint8Array | null,
    enc: number,
  ): number;
  EVP_CipherUpdate(ctx: Pointer, out: Uint8Array | null, outl: Int32Array, input: Uint8Array, inl: number): number;
  EVP_CipherFinal_ex(ctx: Pointer, out: Uint8Array, outl: Int32Array): number;
  EVP_CIPHER_CTX_ctrl(ctx: Pointer, type: number, arg: number, ptr: Uint8Array): number;
}

interface BunFfi {
  dlopen(name: string, symbols: Record<string, { args: string[]; returns: string }>): { symbols: unknown };
}

const SIGNATURES = {
  EVP_CIPHER_CTX_new: { args: [], returns: "ptr" },
  EVP_chacha20_poly1305: { args: [], returns: "ptr" },
  EVP_CipherInit_ex: { args: ["ptr", "ptr", "ptr", "ptr", "ptr", "i32"], returns: "i32" },
  EVP_CipherUpdate: { args: ["ptr", "ptr", "ptr", "ptr", "i32"], returns: "i32" },
  EVP_CipherFinal_ex: { args: ["ptr", "ptr", "ptr"], returns: "i32" },
  EVP_CIPHER_CTX_ctrl: { args: ["ptr", "i32", "i32", "ptr"], returns: "i32" },
};

/** The cipher from the first libcrypto that loads, or undefined when none does. */
export async function libcryptoAead(): Promise<Aead | undefined> {
  // A specifier the bundler leaves alone: Deno never loads this module's path, and must not resolve it either.
  const specifier = "bun:ffi";
  const ffi = (await import(specifier).catch(() => undefined)) as BunFfi | undefined;
  if (!ffi) return undefined;
  for (const name of LIBRARIES) {
    try {
      return new LibcryptoAead(ffi.dlopen(name, SIGNATURES).symbols as Symbols);
    } catch {
      // Not on this system: try the next.
    }
  }
  return undefined;
}

class LibcryptoAead implements Aead {
  readonly name = "OpenSSL";
  private readonly ctx: Pointer;
  private readonly cipher: Pointer;
  private readonly outl = new Int32Array(1);

  constructor(private readonly s: Symbols) {
    this.ctx = s.EVP_CIPHER_CTX_new();
    this.cipher = s.EVP_chacha20_poly1305();
    if (!this.ctx || !this.cipher) throw new Error("libcrypto has no ChaCha20-Poly1305");
  }

  seal(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array, out: Uint8Array): void {
    this.init(key, nonce, 1);
    const n = this.update(out, plain);
    this.check(this.s.EVP_CipherFinal_ex(this.ctx, out.subarray(n), this.outl), "final");
    this.check(this.s.EVP_CIPHER_CTX_ctrl(this.ctx, EVP_CTRL_AEAD_GET_TAG, TAG, out.subarray(n, n + TAG)), "tag");
  }

  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, out: Uint8Array): boolean {
    const length = sealed.length - TAG;
    this.init(key, nonce, 0);
    // The tag is copied: OpenSSL keeps it until the final call, and `sealed` is the caller's.
    this.check(this.s.EVP_CIPHER_CTX_ctrl(this.ctx, EVP_CTRL_AEAD_SET_TAG, TAG, sealed.slice(length)), "tag");
    this.update(out, sealed.subarray(0, length));
    return this.s.EVP_CipherFinal_ex(this.ctx, out.subarray(length), this.outl) === 1;
  }

  private init(key: Uint8Array, nonce: Uint8Array, encrypt: number): void {
    this.check(this.s.EVP_CipherInit_ex(this.ctx, this.cipher, null, key, nonce, encrypt), "init");
  }

  private update(out: Uint8Array, input: Uint8Array): number {
    if (input.length === 0) return 0;
    this.check(this.s.EVP_CipherUpdate(this.ctx, out, this.outl, input, input.length), "update");
    return this.outl[0]!;
  }

  private check(result: number, step: string): void {
    if (result !== 1) throw new Error(`libcrypto's ChaCha20-Poly1305 failed (${step})`);
  }
}
