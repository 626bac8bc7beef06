/**
 * backup.yaml's `encryption:`: who can open new archives (age recipients, or a passphrase file),
 * and what opens old ones (identity files). Identity files are read only when an archive is
 * opened (app/archive-sealing.ts): the machine that makes backups need not hold one.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Decrypter, Encrypter } from "age-encryption";
import * as v from "valibot";
import { systemErrorText } from "../util/errors.ts";
import { ConfigError } from "./config-error.ts";
import { expandPath } from "./expand-path.ts";
import { keyFile } from "./key-file.ts";
import { readPassphrase } from "./passphrase-file.ts";
import { configErrorAt, formatKeyPath, strictMapping } from "./schema-errors.ts";
import { type PathKey, type Position, positionOf, type YamlSource } from "./yaml-source.ts";

/** Where backup.yaml names something, for errors found only when it is used. */
export interface Place extends Position {
  file: string;
  keyPath: string;
}

/**
 * New archives are sealed for `recipients`, else with `passphrase`, else for the identities' own
 * public keys (as `age -e -i` does); app/archive-sealing.ts decides.
 */
export interface EncryptionConfig {
  /** Public keys (`age1…`), from backup.yaml and the recipient files it names. */
  recipients: string[];
  /** Identity files (`AGE-SECRET-KEY-1…` lines), in the order written. */
  identities: IdentityFile[];
  /** The passphrase from passphrase_file, which also opens archives sealed with it. */
  passphrase?: string;
}

export interface IdentityFile {
  file: string;
  at: Place;
}

const text = (expected: string) =>
  v.pipe(
    v.string(expected),
    v.check((s) => s.trim() !== "", expected),
  );
const RECIPIENT = "an age public key (age1...) or the path of a file of them";
const IDENTITY = "the path of an age identity file, or a list of them";

export const encryptionSchema = v.nullish(
  strictMapping(
    {
      recipients: v.optional(v.array(text(RECIPIENT), `a list, each ${RECIPIENT}`)),
      identity: v.optional(v.union([text(IDENTITY), v.array(text(IDENTITY))], IDENTITY)),
      passphrase_file: v.optional(text("the path of a file holding the passphrase")),
    },
    "a mapping with recipients, identity or passphrase_file",
  ),
);

type Raw = NonNullable<v.InferOutput<typeof encryptionSchema>>;

export function encryptionConfig(
  src: YamlSource,
  raw: Raw | null | undefined,
  env: Record<string, string | undefined>,
  home: string,
): EncryptionConfig | undefined {
  if (!raw) return undefined;
  const base = path.dirname(src.file);
  const at = (keys: PathKey[], problem: string) => configErrorAt(src, ["encryption", ...keys], problem);
  const pathOf = (keys: PathKey[], value: string) => {
    try {
      return expandPath(value, env, home, base);
    } catch (e) {
      throw at(keys, (e as Error).message);
    }
  };
  const identityList = typeof raw.identity === "string" ? [raw.identity] : (raw.identity ?? []);
  const identities = identityList.map((value, i) => {
    const keys: PathKey[] = typeof raw.identity === "string" ? ["identity"] : ["identity", i];
    if (SECRET_KEY.test(value)) throw at(keys, "give the path of a file holding the identity, not the key itself");
    return { file: pathOf(keys, value), at: placeOf(src, ["encryption", ...keys]) };
  });
  if (raw.passphrase_file !== undefined) {
    if (raw.recipients !== undefined)
      throw at(["passphrase_file"], "use recipients or passphrase_file, not both (age seals a file one way)");
    return { recipients: [], identities, passphrase: readPassphrase(src, raw.passphrase_file, env, home) };
  }
  if (raw.recipients !== undefined) {
    if (raw.recipients.length === 0) throw at(["recipients"], "the list is empty: name at least one public key");
    const recipients = raw.recipients.flatMap((value, i) =>
      KEY_LIKE.test(value) ? [checkedRecipient(src, i, value)] : recipientFile(pathOf(["recipients", i], value)),
    );
    return { recipients, identities };
  }
  if (identities.length === 0)
    throw configErrorAt(src, ["encryption"], "needs recipients, passphrase_file or identity", { at: "key" });
  return { recipients: [], identities };
}

export function placeOf(src: YamlSource, keys: PathKey[]): Place {
  return { file: src.file, keyPath: formatKeyPath(keys), ...positionOf(src, keys) };
}

function errorAt(place: Place, problem: string): ConfigError {
  return new ConfigError({ ...place, text: `${place.keyPath}: ${problem}` });
}

function checkedRecipient(src: YamlSource, i: number, key: string): string {
  const problem = recipientProblem(key);
  if (problem) throw configErrorAt(src, ["encryption", "recipients", i], problem);
  return key;
}

/** Written as a key, not a path: checked as one (a typo is no missing file); a secret key is never quoted. */
const KEY_LIKE = /^(age1|AGE-SECRET-KEY-|(ssh|ecdsa)-\S+\s)/i;
const SECRET_KEY = /^AGE-SECRET-KEY-/i;

/** Why `key` is not an age public key, or undefined when it is one. */
export function recipientProblem(key: string): string | undefined {
  if (SECRET_KEY.test(key)) return "a secret key (identity) is not a recipient: give its public key (age-keygen -y)";
  if (/^(ssh-|ecdsa-)/.test(key)) return "SSH keys are not supported as recipients: use an age key (age-keygen)";
  try {
    new Encrypter().addRecipient(key);
    return undefined;
  } catch {
    return `not a valid age public key: ${JSON.stringify(key.length > 80 ? `${key.slice(0, 77)}...` : key)}`;
  }
}

/** A recipients file as `age -R` reads it: one key per line, blank lines and "#" comments skipped. */
function recipientFile(file: string): string[] {
  const keys: string[] = [];
  readLines(file).forEach((line, i) => {
    const key = line.trim();
    if (key === "" || key.startsWith("#")) return;
    const problem = recipientProblem(key);
    const col = line.indexOf(key) + 1;
    if (problem) throw new ConfigError({ file, line: i + 1, col, keyPath: "", text: problem });
    keys.push(key);
  });
  if (keys.length === 0) throw new ConfigError({ file, line: 1, col: 1, keyPath: "", text: "holds no public key" });
  return keys;
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, "utf8").split(/\r?\n/);
  } catch (e) {
    throw new ConfigError({ file, line: 1, col: 1, keyPath: "", text: `cannot read: ${systemErrorText(e)}` });
  }
}

/**
 * The identities in `file`, which others must not be able to read. Errors never quote a line:
 * it may be a secret key with a typo.
 */
export function readIdentities(file: string, at: Place): string[] {
  let checked: string;
  try {
    checked = keyFile(file, {}, "/", "/");
  } catch (e) {
    throw errorAt(at, (e as Error).message);
  }
  const lines = readLines(checked);
  if (lines[0]?.startsWith("age-encryption.org/"))
    throw errorAt(at, `${file} is an encrypted identity file; give the identity itself (age -d it once)`);
  const identities: string[] = [];
  lines.forEach((line, i) => {
    const key = line.trim();
    if (key === "" || key.startsWith("#")) return;
    try {
      new Decrypter().addIdentity(key);
    } catch {
      const col = line.indexOf(key) + 1;
      throw new ConfigError({ file, line: i + 1, col, keyPath: "", text: "not an age identity (AGE-SECRET-KEY-1...)" });
    }
    identities.push(key);
  });
  if (identities.length === 0) throw errorAt(at, `${file} holds no age identity`);
  return identities;
}
