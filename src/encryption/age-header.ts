/**
 * The header of an age v1 file, made and opened by age-encryption (its authors' implementation):
 * the recipients' stanzas, each wrapping the file key, and the MAC. The payload is ours
 * (age-payload.ts), so the header is made as the header of an empty file, through a recipient of
 * our own that hands us the file key the library drew.
 */
import { Decrypter, Encrypter, type Recipient } from "age-encryption";
import { OperationError } from "../util/errors.ts";
import { scryptStanza, unwrapScrypt } from "./scrypt-stanza.ts";

/** Who can open a new archive: age recipients (public keys), or a passphrase. */
export type SealingKeys = { recipients: string[] } | { passphrase: string };
/** What opens an archive: age identities (`AGE-SECRET-KEY-1…`), and a passphrase. */
export interface OpeningKeys {
  identities: string[];
  passphrase?: string;
}

export interface Sealed {
  header: Uint8Array;
  fileKey: Uint8Array;
}

export const VERSION_LINE = "age-encryption.org/v1\n";
/** Far above any header of a few dozen recipients; a file without a MAC line by then is not age's. */
export const MAX_HEADER_BYTES = 1 << 20;
/** An empty file is its header, the payload's nonce and one sealed empty chunk (its tag). */
const EMPTY_PAYLOAD_BYTES = 16 + 16;

/** Why an archive's key could not be had: exit 2 for a key the user must supply, 1 for a damaged file. */
export class AgeHeaderError extends OperationError {
  constructor(
    message: string,
    readonly reason: "no-key" | "damaged",
  ) {
    super(message);
  }
}

export async function newHeader(keys: SealingKeys): Promise<Sealed> {
  let fileKey: Uint8Array | undefined;
  const encrypter = new Encrypter();
  const capture = (stanzas: (key: Uint8Array) => ReturnType<Recipient["wrapFileKey"]>): Recipient => ({
    wrapFileKey(key) {
      fileKey = key;
      return stanzas(key);
    },
  });
  if ("passphrase" in keys) {
    const { passphrase } = keys;
    encrypter.addRecipient(capture(async (key) => [await scryptStanza(passphrase, key)]));
  } else {
    for (const r of keys.recipients) encrypter.addRecipient(r);
    encrypter.addRecipient(capture(() => []));
  }
  const empty = await encrypter.encrypt(new Uint8Array(0));
  if (!fileKey) throw new Error("age-encryption drew no file key");
  return { header: empty.subarray(0, empty.length - EMPTY_PAYLOAD_BYTES), fileKey };
}

/**
 * Where the header in `bytes` ends, just after its MAC line (`--- …\n`); undefined while it may
 * still come. Stanza lines start with "-> " and bodies are base64, so the first "\n---" is the MAC's.
 */
export function headerLength(bytes: Uint8Array): number | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const probe = Math.min(text.length, VERSION_LINE.length);
  if (text.subarray(0, probe).toString("latin1") !== VERSION_LINE.slice(0, probe))
    throw new AgeHeaderError("not an age-encrypted file", "damaged");
  const mac = text.indexOf("\n---");
  const end = mac < 0 ? -1 : text.indexOf("\n", mac + 1);
  if (end >= 0) return end + 1;
  if (text.length > MAX_HEADER_BYTES) throw new AgeHeaderError("its age header has no end", "damaged");
  return undefined;
}

/**
 * Headers opened in this run, with which keys: a restore opens the same header to check it, to
 * peek at the content and to read it, and a passphrase's derivation is slow by design.
 */
const opened = new Map<string, Promise<Uint8Array>>();

/** The file key `header` wraps, opened with `keys`. */
export function fileKeyOf(header: Uint8Array, keys: OpeningKeys): Promise<Uint8Array> {
  const id = [Buffer.from(header).toString("latin1"), ...keys.identities, keys.passphrase ?? ""].join("\0");
  const known = opened.get(id);
  if (known) return known;
  const key = unwrap(header, keys);
  opened.set(id, key);
  return key;
}

async function unwrap(header: Uint8Array, keys: OpeningKeys): Promise<Uint8Array> {
  const decrypter = new Decrypter();
  for (const identity of keys.identities) decrypter.addIdentity(identity);
  const { passphrase } = keys;
  if (passphrase !== undefined)
    decrypter.addIdentity({ unwrapFileKey: (stanzas) => unwrapScrypt(passphrase, stanzas) });
  try {
    return await decrypter.decryptHeader(header);
  } catch (e) {
    const text = (e as Error).message;
    if (/no identity matched/.test(text)) throw new AgeHeaderError(noKeyText(header, keys), "no-key");
    throw new AgeHeaderError(`its age header is damaged (${text})`, "damaged");
  }
}

function noKeyText(header: Uint8Array, keys: OpeningKeys): string {
  const passphraseOnly = Buffer.from(header).toString("latin1").includes("\n-> scrypt ");
  if (passphraseOnly)
    return keys.passphrase === undefined ? "it needs the passphrase" : "the passphrase does not open it";
  if (keys.identities.length === 0) return "it needs an age identity (encryption.identity in backup.yaml)";
  return "none of the identities opens it (it was encrypted to other keys)";
}
