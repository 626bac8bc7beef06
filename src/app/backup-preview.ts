import { access, constants } from "node:fs/promises";
import { join } from "node:path";
import { archiveName, type BackupKind } from "../archive/naming.ts";
import type { Service } from "../config/service-config.ts";
import { volumeUsage } from "../docker/emptier.ts";
import { planRetention, type RetentionEntry } from "../retention/plan.ts";
import { messageOf } from "../util/errors.ts";
import { pathExists } from "../util/fs-safe.ts";
import { sealingKeys } from "./archive-sealing.ts";
import { askBeforeStop, containerWarnings } from "./backup.ts";
import { backupDirProblem } from "./backup-dir.ts";
import { freeName } from "./backup-files.ts";
import { readCatalog } from "./catalog.ts";
import type { RunContext } from "./context.ts";
import { refuseIfUnfinished } from "./unfinished-restore.ts";

/** What `backup --dry-run` shows for a service; its fields are the `--json` output. */
export interface BackupPreview {
  service: string;
  /** The service's backup script, which runs instead of the stop, archive and start. */
  script?: string;
  /** Running declared containers: the ones a backup would stop. */
  containers: string[];
  /** Space each volume takes on disk; null for one that does not exist. */
  volumes: { name: string; bytes: number | null }[];
  /** The archive a backup starting now would write; null when there is nothing it could back up. */
  archive: string | null;
  /** Backups retention would delete once this one is added. */
  would_delete: string[];
  /** The offsite copies it would then be uploaded to. */
  offsite: string[];
  warnings: string[];
  /** Why the backup would fail; empty when it would run. */
  problems: string[];
}

/**
 * A backup's plan without the backup: asks Docker and reads backup_dir, stops nothing, writes
 * nothing, takes no lock (a real run may start meanwhile). The archive name is the one a
 * backup starting now would take.
 */
export async function previewBackup(ctx: RunContext, service: Service, kind: BackupKind): Promise<BackupPreview> {
  // As the real run would: an identity file new archives are sealed to must be readable.
  if (ctx.config.encryption) await sealingKeys(ctx.config.encryption);
  if (!service.hasData) {
    return unplanned(service.name, `${service.name} declares no data (no data.volumes in ${service.file})`);
  }
  const folder = join(ctx.config.backupDir, service.name);
  const encrypted = ctx.config.encryption !== undefined;
  const { id, created } = await freeName(folder, service.name, ctx.host, ctx.config.compression, encrypted);
  const archive = join(folder, archiveName(id, ctx.config.compression, encrypted));
  const offsite = ctx.config.offsite.map((c) => c.name);
  const preview: BackupPreview = { ...unplanned(service.name, ""), archive, offsite, problems: [] };
  const dirProblem = await folderProblem(ctx.config.backupDir, folder);
  if (dirProblem) preview.problems.push(dirProblem);
  await refuseIfUnfinished(ctx.stateDir, service.name).catch((e) => preview.problems.push(messageOf(e)));
  if (service.lifecycle.backup !== undefined) preview.script = service.lifecycle.backup;
  else await previewVolumes(service, preview).catch((e) => preview.problems.push(messageOf(e)));
  const next: RetentionEntry = { id, service: service.name, host: ctx.host, createdAt: created, kind, bytes: 0 };
  // As after a real run: without backup_dir there is nothing to plan, and retention failing is a warning.
  if (!dirProblem) {
    await wouldDelete(ctx, next).then(
      (ids) => {
        preview.would_delete = ids;
      },
      (e) => {
        preview.warnings.push(`retention skipped: ${messageOf(e)}`);
      },
    );
  }
  return preview;
}

/** What retention would delete once `next` is added: planned as prune plans it, deleting nothing. */
async function wouldDelete(ctx: RunContext, next: RetentionEntry): Promise<string[]> {
  const { backups } = await readCatalog(ctx.config.backupDir, next.service);
  const plan = planRetention<RetentionEntry>([...backups, next], ctx.config.retention, ctx.host, next.createdAt);
  return plan.remove.map((b) => b.id);
}

/** A service no backup could even start for (no data, a broken service.yaml). */
export function unplanned(service: string, problem: string): BackupPreview {
  const none = { containers: [], volumes: [], archive: null, would_delete: [], offsite: [], warnings: [] };
  return { service, ...none, problems: [problem] };
}

/** The same questions a backup asks before its stop, and the volumes measured by a read-only container. */
async function previewVolumes(service: Service, preview: BackupPreview): Promise<void> {
  const names = service.volumes.map((v) => v.name);
  const { exist, plan } = await askBeforeStop(names, service.volumes);
  preview.containers = plan.running;
  preview.warnings.push(...containerWarnings(service.name, plan));
  // Measuring a volume that does not exist would create it.
  const existing = names.filter((_, i) => exist[i]);
  const kib = new Map((existing.length > 0 ? await volumeUsage(existing) : []).map((u) => [u.name, u.kib]));
  preview.volumes = names.map((name) => ({ name, bytes: kib.has(name) ? kib.get(name)! * 1024 : null }));
  const missing = preview.volumes.filter((v) => v.bytes === null);
  preview.problems.push(...missing.map((v) => `volume ${v.name} of ${service.name} does not exist`));
}

/** What keeps a backup from writing its archive, as prepareFolder would find it, without creating the folder. */
async function folderProblem(backupDir: string, folder: string): Promise<string | undefined> {
  const problem = await backupDirProblem(backupDir);
  if (problem) return problem;
  const writable = (await pathExists(folder)) ? folder : backupDir;
  return access(writable, constants.W_OK).then(
    () => undefined,
    (e) => `cannot write to ${folder}: ${messageOf(e)}`,
  );
}
