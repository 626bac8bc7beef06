import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { MANIFEST_SUFFIX, SERVICE_NAME, TEMP_PREFIX, archiveName, parseId } from "../archive/naming.ts";
import { readManifest, type Manifest } from "../archive/manifest.ts";
import { isDefined, unknownService } from "../config/service-config.ts";
import { backupDirProblem, requireBackupDir } from "./backup-dir.ts";

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
}

export interface Catalog {
  backups: Backup[];
  /** Files that look like ours but cannot be used, with the reason; shown, never deleted. */
  problems: string[];
}

/** Names in a folder; a missing one (or a file where a folder was expected) holds no backups. */
async function names(dir: string, only: "all" | "folders" = "all"): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => only === "all" || e.isDirectory()).map((e) => e.name);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw e;
  }
}

/**
 * Every complete backup in backup_dir, newest first. A backup counts only with its manifest,
 * which is written last: temporary files and archives without a manifest are never listed.
 * A missing backup_dir is an error: an unmounted drive must not read as "no backups".
 */
export async function readCatalog(backupDir: string, service?: string): Promise<Catalog> {
  await requireBackupDir(backupDir);
  const services = service ? [service] : await serviceFolders(backupDir);
  const catalog: Catalog = { backups: [], problems: [] };
  await Promise.all(services.map((s) => readService(backupDir, s, catalog)));
  catalog.backups.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id));
  return catalog;
}

/** For reports with more to show than backups (services, status): backup_dir's problem instead of an error. */
export async function readCatalogOrProblem(backupDir: string): Promise<Catalog & { backupDirProblem?: string }> {
  const problem = await backupDirProblem(backupDir);
  return problem ? { backups: [], problems: [], backupDirProblem: problem } : readCatalog(backupDir);
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
      const m = await readManifest(manifestFile);
      if (typeof m === "string") return void catalog.problems.push(`${manifestFile}: ${m}`);
      if (m.id !== parsed.id || m.service !== service || m.archive.file !== archiveName(parsed.id, m.archive.compression)) {
        return void catalog.problems.push(`${manifestFile}: manifest does not match its file name`);
      }
      const file = join(folder, m.archive.file);
      const size = await stat(file).then((s) => s.size, () => undefined);
      if (size === undefined) return void catalog.problems.push(`${manifestFile}: its archive ${m.archive.file} is missing`);
      catalog.backups.push({
        id: m.id, service, host: m.host, createdAt: new Date(m.created_at), kind: m.kind,
        file, manifestFile, bytes: m.archive.bytes, complete: size === m.archive.bytes, manifest: m,
      });
    }),
  );
}
