import type { Service } from "../config/service-config.ts";
import { localEngineSocket } from "../docker/api/index.ts";
import { checkDaemon, createVolume, volumeExists } from "../docker/daemon.ts";
import { armEmptying, type Emptier } from "../docker/emptier.ts";
import { removeStaleHelpers } from "../docker/helper-container.ts";
import { replaceVolumes } from "../docker/volume-restore.ts";
import { OperationError } from "../util/errors.ts";
import { keysFor, withPlainFile } from "./archive-keys.ts";
import { type BackupResult, prepareFolder } from "./backup-files.ts";
import type { Backup } from "./catalog.ts";
import { type RestoreUsers, restoreUsers, startAll, startOrder, stopAll } from "./containers.ts";
import type { RunContext } from "./context.ts";
import { clearJournal, writeJournal } from "./journal.ts";
import { runScript } from "./lifecycle.ts";
import { recoverInterrupted } from "./recover.ts";
import { stillThere } from "./restore-check.ts";
import { nothingToSave } from "./restore-plan.ts";
import { rollBack, safetyBackup } from "./safety-backup.ts";
import { clearUnfinished, markUnfinished, readUnfinished } from "./unfinished-restore.ts";

export interface RestoreResult {
  safety?: BackupResult;
  restarted: string[];
}

/**
 * After the caller's verification: keep a safety backup of the current data, stop every
 * container using the volumes, replace their content, start again what was running. A failed
 * or interrupted replacement puts the safety backup back before the containers start.
 */
export async function restoreService(
  ctx: RunContext,
  service: Service,
  backup: Backup,
  opts: { safetyBackup: boolean; verified: Promise<void>; emptier?: Emptier },
): Promise<RestoreResult> {
  await checkDaemon();
  const volumes = service.lifecycle.restore ? [] : service.volumes.map((v) => v.name);
  // Docker's endpoint is found now, or the extraction would ask for it during the downtime.
  const [exist] = await Promise.all([
    Promise.all(volumes.map(volumeExists)),
    removeStaleHelpers(),
    recoverInterrupted(ctx, service.name),
    localEngineSocket(),
  ]);
  // Armed before the stop (normally already, by the plan), so that emptying the volumes costs no
  // downtime; later when a volume is still to be created (`docker run -v` would create it unannounced).
  let emptier = opts.emptier ?? (volumes.length > 0 && exist.every(Boolean) ? armEmptying(volumes) : undefined);
  try {
    // `verified`: checkRestorable, run by the caller before the summary.
    await opts.verified;
    await stillThere(backup);
    // A Ctrl-C during the verification or the summary ends the run before anything is touched.
    ctx.signal.throwIfAborted();
    if (service.lifecycle.restore) return await customRestore(ctx, service, backup, opts);
    // Before any change: a paused user of the volumes refuses the restore.
    const users = await restoreUsers(service.volumes);
    for (const [i, v] of volumes.entries()) {
      if (exist[i]) continue;
      ctx.reporter.step(service.name, `creating missing volume ${v}`);
      await createVolume(v);
    }
    emptier ??= armEmptying(volumes);
    // Volumes this restore created hold nothing a safety backup could keep.
    const fresh = nothingToSave(service, exist);
    const safetyBackup = opts.safetyBackup && !fresh;
    return await replaceData(ctx, service, backup, { safetyBackup, fresh, users, emptier });
  } finally {
    await emptier?.close();
  }
}

/** From the journal on: the stop, the safety backup, the replacement, the start. */
async function replaceData(
  ctx: RunContext,
  service: Service,
  backup: Backup,
  opts: { safetyBackup: boolean; fresh: boolean; users: RestoreUsers; emptier: Emptier },
): Promise<RestoreResult> {
  const { reporter } = ctx;
  const { users } = opts;
  const volumes = service.volumes.map((v) => v.name);
  // The safety backup runs after the stop; a backup_dir it cannot write must fail before it.
  if (opts.safetyBackup) await prepareFolder(ctx.config.backupDir, service.name);
  const stopped: string[] = [];
  const journal = {
    service: service.name,
    pid: process.pid,
    operation: "restore" as const,
    started_at: new Date().toISOString(),
    stopped: users.running,
    ids: users.ids,
    restoring: backup.id,
    replacing: false,
  };
  await writeJournal(ctx.stateDir, journal);
  let safety: BackupResult | undefined;
  let failures: string[] = [];
  let replaced = false;
  try {
    if (users.running.length > 0) reporter.step(service.name, `stopping ${users.running.join(", ")}`);
    await stopAll(users.running, stopped, ctx.stopTimeout, ctx.signal);
    // Taken while the containers are already down: one stop and start for the whole restore,
    // and a safety backup that no running container can make inconsistent.
    if (opts.safetyBackup) {
      safety = await safetyBackup(ctx, service, backup.id);
      reporter.step(service.name, `safety backup of the current data: ${safety.file}`);
    }
    ctx.signal.throwIfAborted();
    await writeJournal(ctx.stateDir, { ...journal, safety_backup: safety?.manifest.id, replacing: true });
    reporter.step(service.name, `replacing the content of ${volumes.join(", ")} with ${backup.id}`);
    const t0 = Date.now();
    try {
      await replaceVolumes(service.name, backup.file, backup.manifest.archive, volumes, {
        signal: ctx.signal,
        keys: keysFor(ctx.config, backup.manifest),
        emptier: opts.emptier,
        onBytes: (n) => reporter.progress(service.name, n, Date.now() - t0, { total: backup.bytes }),
      });
    } catch (e) {
      const putBack = (from: BackupResult) =>
        replaceVolumes(service.name, from.file, from.manifest.archive, volumes, {
          keys: keysFor(ctx.config, from.manifest),
        });
      const attempt = { started_at: journal.started_at, restoring: backup.id, safety, fresh: opts.fresh, putBack };
      await rollBack(ctx, service, { ...attempt, target: volumes.join(", ") }, e);
      throw e;
    }
    await clearUnfinished(ctx.stateDir, service.name);
    replaced = true;
  } finally {
    failures = await startAll(stopped, users.order);
    if (failures.length === 0) await clearJournal(ctx.stateDir, service.name);
    // Thrown below when the restore went through; otherwise its own error propagates, so say it here.
    else if (!replaced) reporter.warn(service.name, failures.join("; "));
  }
  if (failures.length > 0) throw new OperationError(`${service.name} was restored, but ${failures.join("; ")}`);
  return { safety, restarted: startOrder(stopped, users.order) };
}

/** lifecycle.restore reads BACKUP_FILE itself; a failure runs it again on the safety backup. */
async function customRestore(
  ctx: RunContext,
  service: Service,
  backup: Backup,
  opts: { safetyBackup: boolean },
): Promise<RestoreResult> {
  const script = service.lifecycle.restore!;
  const started_at = new Date().toISOString();
  const safety = opts.safetyBackup ? await safetyBackup(ctx, service, backup.id) : undefined;
  // No journal can tell what a script had written when we were killed (SIGKILL, power loss), so
  // the data counts as partial from its start until it completes. A mark found here (an earlier
  // restore's) still holds if we put the data back as we found it.
  const earlier = await readUnfinished(ctx.stateDir, service.name);
  await markUnfinished(ctx.stateDir, {
    service: service.name,
    started_at,
    restoring: backup.id,
    safety_backup: safety?.manifest.id,
    why: `pid ${process.pid} was killed while it ran ${script}`,
  });
  ctx.reporter.step(service.name, `running ${script}`);
  try {
    await withPlainFile(ctx, backup, (file) => runScript(ctx, service, script, { BACKUP_FILE: file }));
  } catch (e) {
    const unstoppable = { ...ctx, signal: new AbortController().signal };
    const putBack = (from: BackupResult) =>
      withPlainFile(unstoppable, from, (file) => runScript(unstoppable, service, script, { BACKUP_FILE: file }));
    if (
      await rollBack(
        ctx,
        service,
        { started_at, restoring: backup.id, safety, target: `the data of ${service.name}`, putBack },
        e,
      )
    ) {
      await (earlier ? markUnfinished(ctx.stateDir, earlier) : clearUnfinished(ctx.stateDir, service.name));
    }
    throw e;
  }
  await clearUnfinished(ctx.stateDir, service.name);
  return { safety, restarted: [] };
}
