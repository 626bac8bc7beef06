import { access, constants } from "node:fs/promises";
import { join } from "node:path";
import type { Manifest } from "../archive/manifest.ts";
import { archiveName, backupId, type Compression, manifestName } from "../archive/naming.ts";
import { publishBackup } from "../archive/publish.ts";
import { messageOf, OperationError, systemErrorText } from "../util/errors.ts";
import { ensurePrivateDir, pathExists } from "../util/fs-safe.ts";
import { requireBackupDir } from "./backup-dir.ts";

export interface BackupResult {
  service: string;
  manifest: Manifest;
  file: string;
  manifestFile: string;
}

/** Checked before any container is stopped: a backup that cannot be written must not cost downtime. */
export async function prepareFolder(backupDir: string, service: string): Promise<string> {
  await requireBackupDir(backupDir);
  const folder = join(backupDir, service);
  try {
    await ensurePrivateDir(folder);
    await access(folder, constants.W_OK);
  } catch (e) {
    throw new OperationError(`cannot write to ${folder}: ${messageOf(e)}`);
  }
  return folder;
}

/** Ids have one-second resolution; a second backup within the same second takes the next one. */
export async function freeName(
  folder: string,
  service: string,
  host: string,
  compression: Compression,
  encrypted: boolean,
) {
  for (let t = Math.floor(Date.now() / 1000) * 1000; ; t += 1000) {
    const id = backupId(service, new Date(t), host);
    if (
      !(await pathExists(join(folder, archiveName(id, compression, encrypted)))) &&
      !(await pathExists(join(folder, manifestName(id))))
    ) {
      return { id, created: new Date(Math.max(t, Date.now())) };
    }
  }
}

/** The manifest's final name is given last: its presence is what makes the archive a listed backup. */
export async function saveBackup(folder: string, tmpArchive: string, manifest: Manifest): Promise<BackupResult> {
  try {
    return { service: manifest.service, manifest, ...(await publishBackup(folder, tmpArchive, manifest)) };
  } catch (e) {
    throw new OperationError(
      `could not save the backup ${manifest.id} in ${folder} (${systemErrorText(e)}); nothing was kept`,
    );
  }
}
