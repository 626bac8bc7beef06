/**
 * ChaCha20-Poly1305, age's payload cipher, from the fastest place this runtime offers it:
 * node:crypto (Deno, Node), the system's OpenSSL (Bun), else the audited JavaScript one that
 * age-encryption itself uses.
 */
import { createCipheriv, createDecipheriv, getCiphers } from "node:crypto";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { type Aead, TAG_BYTES } from "./aead.ts";
import { libcryptoAead } from "./libcrypto.ts";

export { type Aead, TAG_BYTES } from "./aead.ts";

const NODE: Aead = {
  name: "node:crypto",
  seal(key, nonce, plain, out) {
    const c = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG_BYTES });
    const body = c.update(plain);
    c.final();
    out.set(body);
    out.set(c.getAuthTag(), body.length);
  },
  open(key, nonce, sealed, out) {
    const length = sealed.length - TAG_BYTES;
    const d = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG_BYTES });
    d.setAuthTag(sealed.subarray(length));
    const body = d.update(sealed.subarray(0, length));
    try {
      d.final();
    } catch {
      return false;
    }
    out.set(body);
    return true;
  },
};

/** Exported for the test that it seals and opens as the native ones do. */
export const JAVASCRIPT: Aead = {
  name: "JavaScript",
  seal(key, nonce, plain, out) {
    out.set(chacha20poly1305(key, nonce).encrypt(plain));
  },
  open(key, nonce, sealed, out) {
    try {
      out.set(chacha20poly1305(key, nonce).decrypt(sealed));
      return true;
    } catch {
      return false;
    }
  },
};

let chosen: Promise<Aead> | undefined;

export function aead(): Promise<Aead> {
  chosen ??= (async () => {
    if (getCiphers().includes("chacha20-poly1305")) return NODE;
    return (await libcryptoAead()) ?? JAVASCRIPT;
  })();
  return chosen;
}
