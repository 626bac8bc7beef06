import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { identityToRecipient } from "age-encryption";
import { ArchiveSource } from "../archive/archive-file.ts";
import { isEncrypted, type Manifest } from "../archive/manifest.ts";
import { ENCRYPTED_SUFFIX } from "../archive/naming.ts";
import type { BackupConfig } from "../config/backup-config.ts";
import { decryptor } from "../encryption/age-decrypt.ts";
import { AgeHeaderError, type OpeningKeys } from "../encryption/age-header.ts";
import { checkOpens } from "../encryption/sealed-file.ts";
import { UsageError } from "../util/errors.ts";
import { ensurePrivateDir, FILE_MODE, tempPathFor } from "../util/fs-safe.ts";
import { openingKeys } from "./archive-sealing.ts";
import type { RunContext } from "./context.ts";

/** The keys that open `manifest`'s archive when it is encrypted (identity files read now); else undefined. */
export function keysFor(config: BackupConfig, manifest: Manifest): OpeningKeys | undefined {
  return isEncrypted(manifest) ? openingKeys(config.encryption) : undefined;
}

const keyHint = (manifest: Manifest) =>
  manifest.archive.encryption?.passphrase
    ? "encryption.passphrase_file"
    : `encryption.identity (the key of ${manifest.archive.encryption?.recipients.join(" or ")})`;

/**
 * The keys for an encrypted archive, known from its manifest alone: without any identity or
 * passphrase configured, a UsageError before anything is read or fetched. Undefined when not encrypted.
 */
export function anyKeyFor(config: BackupConfig, backup: { id: string; manifest: Manifest }): OpeningKeys | undefined {
  const keys = keysFor(config, backup.manifest);
  if (keys && keys.identities.length === 0 && keys.passphrase === undefined)
    throw new UsageError(`${backup.id} is encrypted: opening it needs ${keyHint(backup.manifest)} in ${config.file}`);
  return keys;
}

/**
 * The keys for an encrypted archive, checked to open its header: a key the user must supply is a
 * UsageError (exit 2), a damaged header an AgeHeaderError ("damaged"). Undefined when not encrypted.
 */
export async function requireKeys(config: BackupConfig, backup: { id: string; file: string; manifest: Manifest }) {
  const { id, file, manifest } = backup;
  const keys = anyKeyFor(config, backup);
  if (!keys) return undefined;
  const hint = keyHint(manifest);
  try {
    await checkOpens(file, keys);
  } catch (e) {
    if (!(e instanceof AgeHeaderError)) throw e;
    if (e.reason === "no-key" && !(await holdsRecordedKey(keys, manifest)))
      throw new UsageError(`${id} is encrypted and ${e.message}; set ${hint} in ${config.file}`);
    const why = e.reason === "no-key" ? ALTERED_HEADER : e.message;
    throw new AgeHeaderError(`${file}: ${why}`, "damaged");
  }
  return keys;
}

const ALTERED_HEADER =
  "its age header does not open with the identity of the key its manifest says it was sealed for " +
  "(the header was altered or replaced)";

/** An identity here is the key of one of the manifest's recipients: a header it cannot open was changed. */
async function holdsRecordedKey(keys: OpeningKeys, manifest: Manifest): Promise<boolean> {
  const recorded = manifest.archive.encryption?.recipients ?? [];
  const own = await Promise.all(keys.identities.map(identityToRecipient));
  return own.some((r) => recorded.includes(r));
}

/**
 * A restore's safety backup is sealed with today's settings, and undoing a failed restore must be
 * able to open it: refused before anything stops when this machine holds no key to it.
 */
export async function requireSafetyOpenable(ctx: RunContext): Promise<void> {
  const enc = ctx.config.encryption;
  if (!enc || enc.passphrase !== undefined || enc.recipients.length === 0) return;
  const own = await Promise.all(openingKeys(enc).identities.map(identityToRecipient));
  if (own.some((r) => enc.recipients.includes(r))) return;
  throw new UsageError(
    "the safety backup a restore takes first is encrypted to encryption.recipients, and no identity in " +
      `${ctx.config.file} opens it (a failed restore could not be undone): ` +
      "set encryption.identity to the key of one of them",
  );
}

/**
 * Runs `use` with the archive in the clear, for a lifecycle script that reads BACKUP_FILE: an
 * encrypted one is decrypted into the state folder, which stays on this machine, and removed after.
 */
export async function withPlainFile<T>(
  ctx: RunContext,
  backup: { file: string; manifest: Manifest },
  use: (file: string) => Promise<T>,
): Promise<T> {
  const keys = keysFor(ctx.config, backup.manifest);
  if (!keys) return use(backup.file);
  await ensurePrivateDir(ctx.stateDir);
  const plain = tempPathFor(join(ctx.stateDir, basename(backup.file, ENCRYPTED_SUFFIX)));
  try {
    const out = createWriteStream(plain, { mode: FILE_MODE });
    await pipeline(new ArchiveSource(backup.file), await decryptor(keys), out);
    return await use(plain);
  } finally {
    await rm(plain, { force: true });
  }
}
