export const TAG_BYTES = 16;

/** ChaCha20-Poly1305 as age's payload uses it; chacha.ts picks the implementation. */
export interface Aead {
  /** Which implementation: for the debug log and the benchmark notes. */
  readonly name: string;
  /** `plain` encrypted into `out` (plain.length + 16 bytes: ciphertext, then tag). */
  seal(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array, out: Uint8Array): void;
  /** `sealed` decrypted into `out` (sealed.length - 16 bytes); false when the tag does not match. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, out: Uint8Array): boolean;
}
