/**
 * age v1's payload, ours against the reference age CLI on the other side: we open what `age -r`
 * and `age -p` seal, and `age -d` opens what we seal, at the sizes where chunking can go wrong
 * (empty, one byte short of a chunk, exactly one, one byte over, several, more than a piece).
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { decryptor } from "../../src/encryption/age-decrypt.ts";
import { encryptor } from "../../src/encryption/age-encrypt.ts";
import { AgeHeaderError, newHeader, type OpeningKeys, type SealingKeys } from "../../src/encryption/age-header.ts";
import { CHUNK_BYTES, CHUNKS_PER_PIECE, SEALED_BYTES } from "../../src/encryption/age-payload.ts";
import { checkOpens, plaintextHead } from "../../src/encryption/sealed-file.ts";
import {
  ageDecrypt,
  ageDecryptResult,
  ageDecryptWithPassphrase,
  ageEncrypt,
  ageEncryptWithPassphrase,
  ageKeygen,
  payloadStart,
} from "../helpers/age-cli.ts";
import { cleanupCliTemp, tempDir } from "../helpers/cli.ts";

setDefaultTimeout(60_000);
afterAll(cleanupCliTemp);

const SIZES: [string, number][] = [
  ["empty", 0],
  ["1 byte", 1],
  ["64 KiB - 1", CHUNK_BYTES - 1],
  ["exactly 64 KiB", CHUNK_BYTES],
  ["64 KiB + 1", CHUNK_BYTES + 1],
  ["3 chunks exactly", 3 * CHUNK_BYTES],
  ["3 chunks and a bit", 3 * CHUNK_BYTES + 100],
  ["more chunks than one output piece", (CHUNKS_PER_PIECE + 1) * CHUNK_BYTES + 1],
];

const key = ageKeygen();
const other = ageKeygen();
const identityOf = (file: string) => fs.readFileSync(file, "utf8").match(/^AGE-SECRET-KEY-1\S+$/m)![0];
const keys: OpeningKeys = { identities: [identityOf(key.file)] };

/** `bytes` cut into pieces of `size`, as a stream hands them over. */
function pieces(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out.length > 0 ? out : [Buffer.alloc(0)];
}

async function through(input: Buffer[], stage: NodeJS.ReadWriteStream): Promise<Buffer> {
  const got: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      got.push(Buffer.from(chunk));
      done();
    },
  });
  await pipeline(Readable.from(input), stage, sink);
  return Buffer.concat(got);
}

async function ourDecrypt(sealed: Buffer, opening: OpeningKeys = keys, piece = sealed.length): Promise<Buffer> {
  return through(pieces(sealed, Math.max(piece, 1)), await decryptor(opening));
}

async function ourEncrypt(plain: Buffer, sealing: SealingKeys): Promise<Buffer> {
  return through(pieces(plain, 10_000), await encryptor(await newHeader(sealing)));
}

function fileOf(bytes: Buffer): string {
  const file = path.join(tempDir("tbtest-agefile-"), "sealed.age");
  fs.writeFileSync(file, bytes);
  return file;
}

describe("we open what `age -r` seals, byte for byte", () => {
  for (const [label, size] of SIZES) {
    test(`${label} (${size} bytes), read whole and in odd pieces`, async () => {
      const plain = randomBytes(size);
      const sealed = ageEncrypt(plain, [key.recipient]);
      expect((await ourDecrypt(sealed)).equals(plain)).toBe(true);
      expect((await ourDecrypt(sealed, keys, 4097)).equals(plain)).toBe(true);
      expect((await ourDecrypt(sealed, keys, 7)).length).toBe(size);
    });
  }

  test("a file for two recipients opens with either identity", async () => {
    const plain = randomBytes(CHUNK_BYTES + 5);
    const sealed = ageEncrypt(plain, [other.recipient, key.recipient]);
    expect((await ourDecrypt(sealed)).equals(plain)).toBe(true);
    expect((await ourDecrypt(sealed, { identities: [identityOf(other.file)] })).equals(plain)).toBe(true);
  });
});

describe("`age -d` opens what we seal, byte for byte", () => {
  for (const [label, size] of SIZES) {
    test(`${label} (${size} bytes)`, async () => {
      const plain = randomBytes(size);
      const sealed = await ourEncrypt(plain, { recipients: [key.recipient] });
      expect(ageDecrypt(fileOf(sealed), key.file).equals(plain)).toBe(true);
    });
  }

  test("two recipients: each identity alone opens it with age", async () => {
    const plain = randomBytes(2 * CHUNK_BYTES + 3);
    const file = fileOf(await ourEncrypt(plain, { recipients: [key.recipient, other.recipient] }));
    expect(ageDecrypt(file, key.file).equals(plain)).toBe(true);
    expect(ageDecrypt(file, other.file).equals(plain)).toBe(true);
  });

  test("sealed for one key, age refuses another identity", async () => {
    const file = fileOf(await ourEncrypt(randomBytes(100), { recipients: [key.recipient] }));
    const r = ageDecryptResult(file, other.file);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no identity matched/);
  });
});

describe("passphrases: age's scrypt stanza both ways", () => {
  test("we open what `age -p` seals (empty and 64 KiB + 1), and refuse another passphrase", async () => {
    for (const size of [0, CHUNK_BYTES + 1]) {
      const plain = randomBytes(size);
      const sealed = await ageEncryptWithPassphrase(plain, "correct horse battery");
      expect(sealed.toString("latin1")).toContain("\n-> scrypt ");
      expect((await ourDecrypt(sealed, { identities: [], passphrase: "correct horse battery" })).equals(plain)).toBe(
        true,
      );
    }
    const sealed = await ageEncryptWithPassphrase(randomBytes(10), "correct horse battery");
    const wrong = ourDecrypt(sealed, { identities: [], passphrase: "another one" });
    await expect(wrong).rejects.toThrow("the passphrase does not open it");
    await expect(wrong).rejects.toBeInstanceOf(AgeHeaderError);
  });

  test("`age -d` opens what we seal with a passphrase", async () => {
    const plain = randomBytes(CHUNK_BYTES);
    const file = fileOf(await ourEncrypt(plain, { passphrase: "zebra staple 9" }));
    expect((await ageDecryptWithPassphrase(file, "zebra staple 9")).equals(plain)).toBe(true);
  });
});

describe("the first chunk alone (checkOpens, plaintextHead) of files age sealed", () => {
  for (const size of [0, 10, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES]) {
    test(`${size} bytes: the header opens and the head is the content's first chunk`, async () => {
      const plain = randomBytes(size);
      const file = fileOf(ageEncrypt(plain, [key.recipient]));
      await checkOpens(file, keys);
      expect((await plaintextHead(file, keys)).equals(plain.subarray(0, CHUNK_BYTES))).toBe(true);
    });
  }

  test("another identity: checkOpens fails with reason no-key", async () => {
    const file = fileOf(ageEncrypt(randomBytes(10), [key.recipient]));
    const e = await checkOpens(file, { identities: [identityOf(other.file)] }).catch((x) => x);
    expect(e).toBeInstanceOf(AgeHeaderError);
    expect(e).toMatchObject({ reason: "no-key", message: expect.stringMatching(/none of the identities opens it/) });
  });
});

describe("damage to a file age sealed is refused", () => {
  const plain = randomBytes(3 * CHUNK_BYTES + 100);
  const sealed = ageEncrypt(plain, [key.recipient]);
  const start = payloadStart(sealed);
  const chunk = (i: number) => sealed.subarray(start + i * SEALED_BYTES, start + (i + 1) * SEALED_BYTES);

  test("the chunks located here are age's (the whole file opens)", async () => {
    expect(sealed.length).toBe(start + 3 * SEALED_BYTES + 100 + 16);
    expect((await ourDecrypt(sealed)).equals(plain)).toBe(true);
  });

  test("cut after a whole chunk: truncated", async () => {
    const cut = sealed.subarray(0, start + 2 * SEALED_BYTES);
    await expect(ourDecrypt(cut)).rejects.toThrow("it ends after a chunk that is not its last (truncated)");
    expect(ageDecryptResult(fileOf(cut), key.file).code).not.toBe(0);
  });

  test("cut inside a chunk: does not authenticate", async () => {
    await expect(ourDecrypt(sealed.subarray(0, start + SEALED_BYTES + 500))).rejects.toThrow(/does not authenticate/);
  });

  test("cut inside the header or just after it: truncated", async () => {
    await expect(ourDecrypt(sealed.subarray(0, 40))).rejects.toThrow("it ends within its age header (truncated)");
    await expect(ourDecrypt(sealed.subarray(0, start + 5))).rejects.toThrow("it ends within a chunk (truncated)");
  });

  test("a byte flipped in the second chunk: refused at that chunk's offset", async () => {
    const bad = Buffer.from(sealed);
    bad[start + SEALED_BYTES + 1000]! ^= 0x01;
    await expect(ourDecrypt(bad)).rejects.toThrow(`does not authenticate at byte ${start + SEALED_BYTES}`);
  });

  test("two chunks swapped: refused", async () => {
    const swapped = Buffer.concat([
      sealed.subarray(0, start),
      chunk(1),
      chunk(0),
      sealed.subarray(start + 2 * SEALED_BYTES),
    ]);
    await expect(ourDecrypt(swapped)).rejects.toThrow(/does not authenticate/);
  });

  test("a chunk appended after the last one: refused", async () => {
    await expect(ourDecrypt(Buffer.concat([sealed, chunk(0)]))).rejects.toThrow(/does not authenticate/);
  });
});
