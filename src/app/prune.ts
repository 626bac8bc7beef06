import { readdir, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { type Manifest, readManifest } from "../archive/manifest.ts";
import { MANIFEST_SUFFIX, TEMP_PREFIX } from "../archive/naming.ts";
import { finishInterruptedPublish } from "../archive/publish.ts";
import type { BackupConfig } from "../config/backup-config.ts";
import { planRetention, type RetentionPlan } from "../retention/plan.ts";
import { staleTempFiles } from "../retention/temp-files.ts";
import { requireBackupDir } from "./backup-dir.ts";
import { type Backup, readCatalog } from "./catalog.ts";

export interface PruneResult {
  plan: RetentionPlan<Backup>;
  staleTemp: string[];
  /** Backups whose run was killed between naming the archive and its manifest, now whole. */
  completed: string[];
  /** Folders and manifests this user cannot read: not pruned, said (Catalog.unreadable). */
  unreadable: string[];
}

/**
 * Applies retention to this host's backups only: backup_dir may be shared by several
 * machines through a sync client, and only files this tool wrote on this host are touched.
 * The manifest goes first, so an interrupted prune never leaves a listed backup without data.
 */
export async function prune(
  config: BackupConfig,
  host: string,
  opts: { dryRun: boolean; service?: string; now?: Date },
): Promise<PruneResult> {
  const now = opts.now ?? new Date();
  await requireBackupDir(config.backupDir);
  const folders = opts.service ? [opts.service] : await readdir(config.backupDir).catch(() => []);
  const finished = (
    await Promise.all(folders.map((f) => finishInterruptedPublish(join(config.backupDir, f), host, opts.dryRun)))
  ).flat();
  const { backups, unreadable } = await readCatalog(config.backupDir, opts.service);
  // The manifest's own host, not the file name's form of it: "büro" and "bäro" are both "b-ro" there.
  const plan = planRetention(backups, config.retention, host, now);
  const completing = new Set(finished.map((f) => f.tmp));
  const staleTemp = (await findStaleTemp(config.backupDir, folders, host, now)).filter((f) => !completing.has(f));
  if (!opts.dryRun) {
    for (const b of plan.remove) {
      await rm(b.manifestFile, { force: true });
      await rm(b.file, { force: true });
    }
    for (const f of staleTemp) await rm(f, { force: true });
  }
  return { plan, staleTemp, completed: finished.map((f) => f.id), unreadable };
}

async function findStaleTemp(backupDir: string, folders: string[], host: string, now: Date): Promise<string[]> {
  const found: { path: string; mtimeMs: number }[] = [];
  for (const folder of folders) {
    const dir = join(backupDir, folder);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.startsWith(TEMP_PREFIX)) continue; // only temporary names need their age read
      const path = join(dir, name);
      const s = await stat(path).catch(() => undefined);
      if (s?.isFile()) found.push({ path, mtimeMs: s.mtimeMs });
    }
  }
  const stale = staleTempFiles(found, host, now);
  // A temporary manifest of another machine whose name has the same file-name form is that
  // machine's interrupted publish, which its next run completes: never swept from here.
  const others = await Promise.all(
    stale.map(async (f) => basename(f).includes(MANIFEST_SUFFIX) && otherHost(await readManifest(f), host)),
  );
  return stale.filter((_, i) => !others[i]);
}

const otherHost = (m: Manifest | string, host: string) => typeof m !== "string" && m.host !== host;
