import { stat } from "node:fs/promises";
import type { Service } from "../config/service-config.ts";
import { OperationError, messageOf } from "../errors.ts";
import { checkDaemon, createVolume, volumeExists } from "../docker/engine.ts";
import { replaceVolumes } from "../docker/volume-restore.ts";
import { armEmptying, type Emptier } from "../docker/runner.ts";
import { removeStaleHelpers } from "../docker/helper.ts";
import { localEngineSocket } from "../docker/endpoint.ts";
import { verifyArchive } from "../archive/verify.ts";
import { restoreEntryCheck } from "../archive/restore-rules.ts";
import { backupService, prepareFolder, type BackupResult } from "./backup.ts";
import type { Backup } from "./catalog.ts";
import { restoreUsers, startAll, startOrder, stopAll, type RestoreUsers } from "./containers.ts";
import { clearJournal, writeJournal } from "./journal.ts";
import { recoverInterrupted } from "./recover.ts";
import type { RunContext } from "./context.ts";
import { runScript } from "./lifecycle.ts";
import { clearUnfinished, markUnfinished, readUnfinished } from "./unfinished-restore.ts";
import { nothingToSave } from "./restore-plan.ts";

/** Refuses, before anything is touched, an archive that is damaged or not this service's. */
export async function checkRestorable(ctx: RunContext, service: Service, backup: Backup): Promise<void> {
  if (service.lifecycle.backup && !service.lifecycle.restore) {
    throw new OperationError(`${service.name} is backed up by its own script (lifecycle.backup) but has no lifecycle.restore, so tools-backup cannot restore it`);
  }
  if (backup.manifest.service !== service.name) throw new OperationError(`${backup.id} is a backup of ${backup.manifest.service}, not ${service.name}`);
  if (!service.lifecycle.restore) {
    const declared = service.volumes.map((v) => v.name).sort();
    const archived = backup.manifest.volumes.map((v) => v.name).sort();
    if (declared.join("\0") !== archived.join("\0")) {
      throw new OperationError(`${backup.id} holds volumes ${archived.join(", ")} but ${service.name} declares ${declared.join(", ")}; refusing a partial or foreign restore`);
    }
  }
  ctx.reporter.step(service.name, `verifying ${backup.file}`);
  const t0 = Date.now();
  const result = await verifyArchive(backup.file, backup.manifest, {
    signal: ctx.signal,
    onEntry: restoreEntryCheck(backup.manifest),
    keepCached: true,
    onBytes: (n) => ctx.reporter.progress(service.name, n, Date.now() - t0, { verb: "verifying", total: backup.bytes }),
  });
  if (!result.ok) throw new OperationError(`${backup.file} cannot be restored: ${result.problems.join("; ")}`);
}

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
  const [exist] = await Promise.all([Promise.all(volumes.map(volumeExists)), removeStaleHelpers(), recoverInterrupted(ctx, service.name), localEngineSocket()]);
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

/**
 * The archive was verified before the summary and the typed RESTORE; a backup's retention may
 * have removed it since (while the user read, or this run waited for the lock).
 */
async function stillThere(backup: Backup): Promise<void> {
  const size = await stat(backup.file).then((s) => s.size, () => undefined);
  if (size !== backup.bytes) {
    throw new OperationError(`${backup.file} was removed or changed after it was verified; nothing was changed`);
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
  const journal = { service: service.name, pid: process.pid, operation: "restore" as const, started_at: new Date().toISOString(), stopped: users.running, ids: users.ids, restoring: backup.id, replacing: false };
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
      await replaceVolumes(service.name, backup.file, backup.manifest.archive.compression, volumes, {
        signal: ctx.signal,
        emptier: opts.emptier,
        onBytes: (n) => reporter.progress(service.name, n, Date.now() - t0, { total: backup.bytes }),
      });
    } catch (e) {
      const putBack = (from: BackupResult) => replaceVolumes(service.name, from.file, from.manifest.archive.compression, volumes);
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

/** A failed safety backup ends the restore before anything was replaced, and says so. */
async function safetyBackup(ctx: RunContext, service: Service, restoring: string): Promise<BackupResult> {
  try {
    return await backupService(ctx, service, "pre-restore", restoring);
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    throw new OperationError(`the safety backup of the current data failed (${messageOf(e)}); nothing was replaced: ${service.name} has its data as before`);
  }
}

interface Attempt {
  started_at: string;
  restoring: string;
  safety?: BackupResult;
  /** No safety backup because every volume was created by this restore. */
  fresh?: boolean;
  /** What may be partly written, for the messages. */
  target: string;
  /** Writes the safety backup back; not abortable: a second Ctrl-C must not leave it half done. */
  putBack(safety: BackupResult): Promise<unknown>;
}

/** True when the safety backup was put back: the data is as this restore found it. */
async function rollBack(ctx: RunContext, service: Service, attempt: Attempt, cause: unknown): Promise<boolean> {
  const why = ctx.signal.aborted ? "the restore was interrupted" : `the restore failed (${messageOf(cause)})`;
  const { safety } = attempt;
  const unfinished = (what: string) =>
    markUnfinished(ctx.stateDir, { service: service.name, started_at: attempt.started_at, restoring: attempt.restoring, safety_backup: safety?.manifest.id, why: what });
  if (!safety) {
    const none = attempt.fresh ? "the volumes did not exist before this restore" : "--no-safety-backup";
    const partly = `so ${attempt.target} may be partly written`;
    ctx.reporter.warn(service.name, `${why}; there is no safety backup (${none}), ${partly}`);
    await unfinished(`${why}, with no safety backup`);
    return false;
  }
  ctx.reporter.warn(service.name, `${why}; putting back the data from before the restore (${safety.file})`);
  try {
    await attempt.putBack(safety);
    ctx.reporter.warn(service.name, `rolled back: ${service.name} has its previous data again; the safety backup stays at ${safety.file}`);
    return true;
  } catch (e) {
    ctx.reporter.warn(service.name, `ROLLBACK FAILED (${messageOf(e)}), so ${attempt.target} may be partly written: restore by hand with tools-backup restore ${service.name} --from ${safety.manifest.id}`);
    await unfinished(`${why}, and putting the safety backup back failed too`);
    return false;
  }
}

/** lifecycle.restore reads BACKUP_FILE itself; a failure runs it again on the safety backup. */
async function customRestore(ctx: RunContext, service: Service, backup: Backup, opts: { safetyBackup: boolean }): Promise<RestoreResult> {
  const script = service.lifecycle.restore!;
  const started_at = new Date().toISOString();
  const safety = opts.safetyBackup ? await safetyBackup(ctx, service, backup.id) : undefined;
  // No journal can tell what a script had written when we were killed (SIGKILL, power loss), so
  // the data counts as partial from its start until it completes. A mark found here (an earlier
  // restore's) still holds if we put the data back as we found it.
  const earlier = await readUnfinished(ctx.stateDir, service.name);
  await markUnfinished(ctx.stateDir, { service: service.name, started_at, restoring: backup.id, safety_backup: safety?.manifest.id, why: `pid ${process.pid} was killed while it ran ${script}` });
  ctx.reporter.step(service.name, `running ${script}`);
  try {
    await runScript(ctx, service, script, { BACKUP_FILE: backup.file });
  } catch (e) {
    const putBack = (from: BackupResult) => runScript({ ...ctx, signal: new AbortController().signal }, service, script, { BACKUP_FILE: from.file });
    if (await rollBack(ctx, service, { started_at, restoring: backup.id, safety, target: `the data of ${service.name}`, putBack }, e)) {
      await (earlier ? markUnfinished(ctx.stateDir, earlier) : clearUnfinished(ctx.stateDir, service.name));
    }
    throw e;
  }
  await clearUnfinished(ctx.stateDir, service.name);
  return { safety, restarted: [] };
}
