import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Manifest, readManifest } from "../archive/manifest.ts";
import { MANIFEST_SUFFIX, parseId, SERVICE_NAME, TEMP_PREFIX } from "../archive/naming.ts";
import { isDefined, unknownService } from "../config/service-config.ts";
import { OperationError, systemErrorText } from "../util/errors.ts";
import { backupDirProblem, requireBackupDir } from "./backup-dir.ts";
import { checkManifest } from "./manifest-check.ts";

export interface Backup {
  id: string;
  service: string;
  host: string;
  createdAt: Date;
  kind: Manifest["kind"];
  file: string;
  manifestFile: string;
  bytes: number;
  /** False while the archive's size differs from its manifest (a sync client still downloading). */
  complete: boolean;
  manifest: Manifest;
  /** Where a copy is: "local" (backup_dir) and the names of offsite copies, in that order. */
  locations: string[];
}

/** backup_dir's name in `locations`. */
export const LOCAL = "local";

/** A file that looks like ours but cannot be used; shown, never deleted. */
export interface Problem {
  /** The manifest file. */
  file: string;
  /** The id its file name carries. */
  id: string;
  reason: string;
}

export interface Catalog {
  backups: Backup[];
  problems: Problem[];
  /**
   * Manifests whose id names another file: copies a sync client made (Syncthing's
   * `.sync-conflict-...`). Not backups, so not problems either; never deleted.
   */
  copies: string[];
  /**
   * Service folders and manifests that could not be read (another user's, in a shared
   * backup_dir), one warning each: skipped, so one of them does not hide everyone's backups.
   */
  unreadable: string[];
}

export function problemText(p: Problem): string {
  return `${p.file}: ${p.reason}`;
}

/** Thrown for a folder or file this user may not read: skipped, or the error of a command about it. */
class Unreadable extends OperationError {}

/** Names in a folder; a missing one (or a file where a folder was expected) holds no backups. */
async function names(dir: string, only: "all" | "folders" = "all"): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => only === "all" || e.isDirectory()).map((e) => e.name);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    if (code === "EACCES" || code === "EPERM") throw new Unreadable(`cannot read ${dir}: ${systemErrorText(e)}`);
    throw e;
  }
}

/**
 * Every complete backup in backup_dir, newest first. A backup counts only with its manifest,
 * which is written last: temporary files and archives without a manifest are never listed.
 * A missing backup_dir is an error: an unmounted drive must not read as "no backups"; so is
 * the folder of the one service asked for when it cannot be read.
 */
export async function readCatalog(backupDir: string, service?: string): Promise<Catalog> {
  await requireBackupDir(backupDir);
  const services = service ? [service] : await serviceFolders(backupDir);
  const catalog: Catalog = { backups: [], problems: [], copies: [], unreadable: [] };
  const skip = (e: unknown) => {
    if (service || !(e instanceof Unreadable)) throw e;
    catalog.unreadable.push(`${e.message}; skipped`);
  };
  await Promise.all(services.map((s) => readService(backupDir, s, catalog).catch(skip)));
  catalog.backups.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id));
  return catalog;
}

/** For reports with more to show than backups (services, status): backup_dir's problem instead of an error. */
export async function readCatalogOrProblem(backupDir: string): Promise<Catalog & { backupDirProblem?: string }> {
  const problem = await backupDirProblem(backupDir);
  return problem
    ? { backups: [], problems: [], copies: [], unreadable: [], backupDirProblem: problem }
    : readCatalog(backupDir);
}

/** Services with a folder in backup_dir: backups outlive the service definitions they were made from. */
async function serviceFolders(backupDir: string): Promise<string[]> {
  return (await names(backupDir, "folders")).filter((n) => SERVICE_NAME.test(n));
}

/**
 * The SERVICE of list and verify: a defined service, or one whose backups outlived its
 * definition. Anything else is a typo, not "no backups".
 */
export async function requireKnownService(root: string, backupDir: string, service: string): Promise<void> {
  await requireBackupDir(backupDir);
  const withBackups = await serviceFolders(backupDir);
  if (!withBackups.includes(service) && !isDefined(root, service)) throw unknownService(root, service, withBackups);
}

async function readService(backupDir: string, service: string, catalog: Catalog): Promise<void> {
  const folder = join(backupDir, service);
  const manifests = (await names(folder)).filter((n) => n.endsWith(MANIFEST_SUFFIX) && !n.startsWith(TEMP_PREFIX));
  await Promise.all(
    manifests.map(async (name) => {
      const parsed = parseId(name.slice(0, -MANIFEST_SUFFIX.length));
      if (!parsed || parsed.service !== service) return;
      const manifestFile = join(folder, name);
      const problem = (reason: string) => void catalog.problems.push({ file: manifestFile, id: parsed.id, reason });
      const m = await readManifest(manifestFile);
      // Another user's manifest is not a damaged one: skipped like an unreadable folder.
      if (typeof m === "string" && /^(EACCES|EPERM):/.test(m))
        return void catalog.unreadable.push(`cannot read ${manifestFile}: ${systemErrorText(m)}; skipped`);
      const check = checkManifest(m, parsed, service);
      if (check === "copy")
        return void catalog.copies.push(
          `${manifestFile}: a copy of ${(m as Manifest).id}'s manifest (a sync client's conflict copy?), ignored`,
        );
      if (typeof check === "string") return problem(check);
      const { manifest, createdAt } = check;
      const file = join(folder, manifest.archive.file);
      const size = await stat(file).then(
        (s) => s.size,
        () => undefined,
      );
      if (size === undefined) return problem(`its archive ${manifest.archive.file} is missing`);
      catalog.backups.push({
        id: manifest.id,
        service,
        host: manifest.host,
        createdAt,
        kind: manifest.kind,
        file,
        manifestFile,
        bytes: manifest.archive.bytes,
        complete: size === manifest.archive.bytes,
        manifest,
        locations: [LOCAL],
      });
    }),
  );
}
