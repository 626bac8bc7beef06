/**
 * age's passphrase stanza (`-> scrypt SALT LOGN`), as age-encryption writes it. Its own passphrase
 * recipient keeps the file key to itself, and getting the key back from the header would cost a
 * second scrypt derivation, the slow part of a passphrase by design.
 */
import { randomBytes, scrypt } from "node:crypto";
import { promisify } from "node:util";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { Stanza } from "age-encryption";

/** age's default work factor; files asking for more than age-encryption accepts are refused. */
const LOG_N = 18;
const MAX_LOG_N = 20;
const LABEL = "age-encryption.org/v1/scrypt";
const SALT_BYTES = 16;
const FILE_KEY_BYTES = 16;

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Uint8Array,
  length: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

function wrapKey(passphrase: string, salt: Uint8Array, logN: number): Promise<Buffer> {
  const labelled = Buffer.concat([Buffer.from(LABEL), salt]);
  const N = 2 ** logN;
  return scryptAsync(passphrase, labelled, 32, { N, r: 8, p: 1, maxmem: 256 * N * 8 + (1 << 20) });
}

/** age's base64: standard alphabet, no padding, canonical. */
function unbase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64").replace(/=+$/, "") === text ? bytes : undefined;
}

export async function scryptStanza(passphrase: string, fileKey: Uint8Array): Promise<Stanza> {
  const salt = randomBytes(SALT_BYTES);
  const key = await wrapKey(passphrase, salt, LOG_N);
  const body = chacha20poly1305(key, new Uint8Array(12)).encrypt(fileKey);
  return new Stanza(["scrypt", salt.toString("base64").replace(/=+$/, ""), String(LOG_N)], body);
}

/** The file key from a header's scrypt stanza, null when the header has none or the passphrase is another. */
export async function unwrapScrypt(passphrase: string, stanzas: Stanza[]): Promise<Uint8Array | null> {
  const stanza = stanzas.find((s) => s.args[0] === "scrypt");
  if (!stanza) return null;
  if (stanzas.length !== 1) throw new Error("a passphrase stanza is not the only one in the header");
  const [, saltText = "", logText = ""] = stanza.args;
  const salt = unbase64(saltText);
  const logN = Number(logText);
  if (stanza.args.length !== 3 || salt?.length !== SALT_BYTES || !/^[1-9][0-9]*$/.test(logText))
    throw new Error("malformed passphrase stanza");
  if (logN > MAX_LOG_N) throw new Error(`the passphrase's work factor 2^${logN} is too high`);
  if (stanza.body.length !== FILE_KEY_BYTES + 16) throw new Error("malformed passphrase stanza");
  try {
    return chacha20poly1305(await wrapKey(passphrase, salt, logN), new Uint8Array(12)).decrypt(stanza.body);
  } catch {
    return null;
  }
}
