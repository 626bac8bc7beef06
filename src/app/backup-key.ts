import { existsSync } from "node:fs";
import path from "node:path";
import { type EncryptionEntry, identityList } from "../config/edit-encryption.ts";
import { defaultKeyFile } from "../config/locate.ts";
import { type NewIdentity, writeNewIdentity } from "../encryption/new-identity.ts";

/**
 * A new age identity for the backups, in `file` (default: $XDG_CONFIG_HOME/tools/backup.key);
 * `key generate` and the settings screen both make keys here.
 */
export function newBackupKey(file: string = defaultKeyFile()): Promise<NewIdentity> {
  return writeNewIdentity(path.resolve(file));
}

/** The default key file, or backup-2.key, backup-3.key... beside it when it is taken: a key is never replaced. */
export function freeKeyFile(): string {
  const first = defaultKeyFile();
  let file = first;
  for (let n = 2; existsSync(file); n++) file = first.replace(/\.key$/, `-${n}.key`);
  return file;
}

/** What to say once a key is made, in plain words: the file is the only way back into the backups. */
export function keepCopyAdvice(file: string): string[] {
  return [
    `Without ${file} (or a copy of it) the backups encrypted for this key cannot be restored, by anyone.`,
    "Keep a copy somewhere else now: a password manager or a USB stick, not in the backup folder.",
  ];
}

/**
 * backup.yaml's `encryption:` sealing new backups for `recipient`; the identity files it names
 * stay (plus `identity`, a new key's file), so the backups sealed for older keys still open.
 */
export function sealingFor(
  current: EncryptionEntry | undefined,
  recipient: string,
  identity?: string,
): EncryptionEntry {
  const identities = [...new Set([...identityList(current), ...(identity ? [identity] : [])])];
  return {
    recipients: [recipient],
    ...(identities.length > 0 ? { identity: identities.length === 1 ? identities[0]! : identities } : {}),
  };
}
