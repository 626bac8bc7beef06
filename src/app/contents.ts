import type { TarHeader } from "../archive/tar-header.ts";
import { type VerifyOptions, verifyArchive } from "../archive/verify.ts";
import type { BackupConfig } from "../config/backup-config.ts";
import { OperationError, UsageError } from "../util/errors.ts";
import { requireKeys } from "./archive-keys.ts";
import type { Backup } from "./catalog.ts";
import { selectBackup } from "./select-backup.ts";

/** One entry of a backup as `list --contents` shows it. */
export interface ContentEntry {
  /** `<volume>/<path>`, without the trailing slash tar gives folders. */
  path: string;
  type: TarHeader["type"];
  size: number;
  /** Permission bits with setuid, setgid and sticky; the archive's file-type bits left out. */
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  /** The target of a symlink or hard link. */
  link?: string;
}

/**
 * A path inside a backup as the user types it (`<volume>/<path>`): relative, without ".." or
 * "." segments, trailing slashes dropped; the same form the archive's entries are checked to have.
 */
export function archivePath(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const parts = trimmed.split("/");
  if (trimmed.startsWith("/") || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new UsageError(`"${path}" is not a path in a backup: give <volume>/<path>, as \`list --contents\` shows it`);
  }
  return trimmed;
}

/** Whether an entry name is `path` itself or lies under it (whole segments: "a/b" does not hold "a/bc"). */
export function isUnder(name: string, path: string): boolean {
  const n = name.replace(/\/+$/, "");
  return n === path || n.startsWith(`${path}/`);
}

/** The backup an id (or a unique prefix of one) names, whatever its service. */
export function backupById(backups: Backup[], id: string): Backup {
  const services = [...new Set(backups.filter((b) => b.id.startsWith(id)).map((b) => b.service))];
  if (services.length === 0) throw new UsageError(`no backup matches "${id}"; see \`tools-backup list\``);
  if (services.length > 1) throw new UsageError(`"${id}" matches backups of ${services.join(", ")}; give the full id`);
  return selectBackup(backups, services[0]!, id).backup;
}

/** A path's first segment is its volume: one the backup does not hold is named before anything is read. */
export function requireVolume(backup: Backup, path: string): void {
  const volumes = backup.manifest.volumes.map((v) => v.name);
  if (!volumes.includes(path.split("/")[0]!)) throw nothingAt(backup, path);
}

/** A path the backup does not hold: the way to see what it does hold. */
export function nothingAt(backup: Backup, path: string): OperationError {
  return new OperationError(`${backup.id} holds nothing at ${path}; see \`tools-backup list --contents ${backup.id}\``);
}

/** A lifecycle script's file is its own format: there are no entries of ours to read in it. */
export function requireOwnArchive(backup: Backup): void {
  if (backup.manifest.custom_script) {
    throw new OperationError(`${backup.id} was written by the service's backup script, in that script's own format`);
  }
}

/**
 * Reads a backup's archive to its end, checked against its manifest as `verify` does, and calls
 * `onEntry` for every entry. A failed check is an error: entries seen before it are not to be trusted.
 */
export async function readEntries(config: BackupConfig, backup: Backup, opts: VerifyOptions): Promise<void> {
  requireOwnArchive(backup);
  const keys = await requireKeys(config, backup);
  const result = await verifyArchive(backup.file, backup.manifest, { ...opts, keys });
  if (!result.ok) throw new OperationError(`${backup.file} failed verification: ${result.problems.join("; ")}`);
}

/** The entries of a backup (those under `path` when given), without extracting anything. */
export async function listContents(
  config: BackupConfig,
  backup: Backup,
  path?: string,
  signal?: AbortSignal,
): Promise<ContentEntry[]> {
  if (path !== undefined) requireVolume(backup, path);
  const entries: ContentEntry[] = [];
  await readEntries(config, backup, {
    signal,
    onEntry(e) {
      if (path !== undefined && !isUnder(e.name, path)) return;
      const link = e.type === "symlink" || e.type === "hardlink" ? { link: e.linkname } : {};
      const { type, size, uid, gid } = e;
      const mtime = new Date(e.mtime * 1000);
      entries.push({ path: e.name.replace(/\/+$/, ""), type, size, mode: e.mode & 0o7777, uid, gid, mtime, ...link });
    },
  });
  if (path !== undefined && entries.length === 0) throw nothingAt(backup, path);
  return entries;
}
