/**
 * The JavaScript ChaCha20-Poly1305 (used where no libcrypto loads) against the system's OpenSSL:
 * the same bytes for the same key, nonce and data, each opening what the other sealed, so a
 * machine without libcrypto reads and writes the same age files. The age CLI checks the result.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { AgeDecrypt } from "../../src/encryption/age-decrypt.ts";
import { AgeEncrypt } from "../../src/encryption/age-encrypt.ts";
import { newHeader } from "../../src/encryption/age-header.ts";
import { CHUNK_BYTES } from "../../src/encryption/age-payload.ts";
import { type Aead, JAVASCRIPT, TAG_BYTES } from "../../src/encryption/chacha.ts";
import { libcryptoAead } from "../../src/encryption/libcrypto.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tools-backup-chacha-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const native = await libcryptoAead();

function sealWith(cipher: Aead, key: Uint8Array, nonce: Uint8Array, plain: Uint8Array): Buffer {
  const out = Buffer.alloc(plain.length + TAG_BYTES);
  cipher.seal(key, nonce, plain, out);
  return out;
}

function openWith(cipher: Aead, key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Buffer | undefined {
  const out = Buffer.alloc(sealed.length - TAG_BYTES);
  return cipher.open(key, nonce, sealed, out) ? out : undefined;
}

async function through(input: Buffer, transform: AgeEncrypt | AgeDecrypt): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      parts.push(Buffer.from(chunk));
      done();
    },
  });
  // Uneven pieces, so chunk boundaries fall inside the stream's writes.
  const pieces = [];
  for (let at = 0; at < input.length; at += 40_001) pieces.push(input.subarray(at, at + 40_001));
  await pipeline(Readable.from(pieces), transform, sink);
  return Buffer.concat(parts);
}

test("this machine has a libcrypto to compare with", () => {
  expect(native?.name).toBe("OpenSSL");
});

describe("one chunk: the JavaScript cipher and OpenSSL agree byte for byte", () => {
  for (const size of [0, 1, 15, 16, 17, 1000, CHUNK_BYTES - 1, CHUNK_BYTES]) {
    test(`${size} bytes`, () => {
      const [key, nonce, plain] = [randomBytes(32), randomBytes(12), randomBytes(size)];
      const js = sealWith(JAVASCRIPT, key, nonce, plain);
      const ssl = sealWith(native!, key, nonce, plain);
      expect(js.equals(ssl)).toBe(true);
      expect(openWith(JAVASCRIPT, key, nonce, ssl)?.equals(plain)).toBe(true);
      expect(openWith(native!, key, nonce, js)?.equals(plain)).toBe(true);
      // A changed byte, or the last chunk's nonce flag: neither opens it.
      const altered = Buffer.from(js);
      altered[Math.floor(altered.length / 2)]! ^= 1;
      const otherNonce = Buffer.from(nonce);
      otherNonce[11]! ^= 1;
      for (const cipher of [JAVASCRIPT, native!]) {
        expect(openWith(cipher, key, nonce, altered)).toBeUndefined();
        expect(openWith(cipher, key, otherNonce, js)).toBeUndefined();
      }
    });
  }
});

const identity = await generateIdentity();
const recipient = await identityToRecipient(identity);

describe("whole age files: sealed by one, opened by the other and by the age CLI", () => {
  const idFile = path.join(tmp, "id.key");
  fs.writeFileSync(idFile, `${identity}\n`, { mode: 0o600 });
  // Three full chunks and a part: the last chunk's flag, and a file cut at no boundary.
  const plain = randomBytes(3 * CHUNK_BYTES + 12_345);

  for (const [writer, reader] of [
    [JAVASCRIPT, native!],
    [native!, JAVASCRIPT],
  ] as const) {
    test(`written with ${writer.name}, read with ${reader.name} and with age -d`, async () => {
      const sealed = await newHeader({ recipients: [recipient] });
      const file = await through(plain, new AgeEncrypt(sealed, writer));
      expect(file.subarray(0, 22).toString()).toBe("age-encryption.org/v1\n");
      expect((await through(file, new AgeDecrypt({ identities: [identity] }, reader))).equals(plain)).toBe(true);
      const onDisk = path.join(tmp, `${writer.name}.age`);
      fs.writeFileSync(onDisk, file);
      const age = spawnSync("age", ["-d", "-i", idFile, onDisk], { maxBuffer: 64 << 20 });
      expect({ code: age.status, stderr: age.stderr.toString() }).toEqual({ code: 0, stderr: "" });
      expect(age.stdout.equals(plain)).toBe(true);
    });
  }
});
