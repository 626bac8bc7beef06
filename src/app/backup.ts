import { join } from "node:path";
import { MANIFEST_FORMAT } from "../archive/manifest.ts";
import { archiveName, type BackupKind } from "../archive/naming.ts";
import { finishInterruptedPublish } from "../archive/publish.ts";
import { type WrittenArchive, writeArchive } from "../archive/writer.ts";
import type { Service } from "../config/service-config.ts";
import { localEngineSocket } from "../docker/api/index.ts";
import { checkDaemon, volumeExists } from "../docker/daemon.ts";
import { createHelper, removeStaleHelpers } from "../docker/helper-container.ts";
import { type VolumeStats, volumesTar } from "../docker/volume-stream.ts";
import { OperationError } from "../util/errors.ts";
import { VERSION } from "../util/version.ts";
import { newSealing } from "./archive-sealing.ts";
import { type BackupResult, freeName, prepareFolder, saveBackup } from "./backup-files.ts";
import { customBackup } from "./backup-script.ts";
import { type Backup, readCatalog } from "./catalog.ts";
import { type ContainerPlan, planContainers, startAll, startOrder, stopAll } from "./containers.ts";
import type { ProgressOf, RunContext } from "./context.ts";
import { clearJournal, writeJournal } from "./journal.ts";
import { recoverInterrupted } from "./recover.ts";
import { refuseIfUnfinished } from "./unfinished-restore.ts";

/**
 * Stop the declared containers, stream every volume into one archive, start them again.
 * `restoring`: a safety backup's restore, the id of the backup about to replace this data.
 */
export async function backupService(
  ctx: RunContext,
  service: Service,
  kind: BackupKind,
  restoring?: string,
): Promise<BackupResult> {
  const { reporter, signal } = ctx;
  if (!service.hasData)
    throw new OperationError(
      `${service.name} declares no data (no data.volumes in ${service.file}): nothing to back up`,
    );
  const started = Date.now();
  const folder = await prepareFolder(ctx.config.backupDir, service.name);
  for (const { id } of await finishInterruptedPublish(folder, ctx.host)) {
    reporter.warn(service.name, `backup ${id} was complete when its run was killed; its manifest is now in place`);
  }
  const scripted = service.lifecycle.backup !== undefined;
  // Before the refusal below: recovering a killed restore may be what marks it unfinished.
  if (!scripted) await recoverInterrupted(ctx, service.name);
  // A safety backup keeps exactly that data; any other backup must not save it as good.
  if (kind !== "pre-restore") await refuseIfUnfinished(ctx.stateDir, service.name);
  if (scripted) return customBackup(ctx, service, { kind, restoring }, folder, started);
  const names = service.volumes.map((v) => v.name);
  // Never waited for, so it costs no downtime: the percent shows once the catalog is read.
  const of: ProgressOf = { estimate: true };
  void previousSize(ctx.config.backupDir, service.name).then((total) => {
    of.total = total;
  });
  const sealed = newSealing(ctx.config.encryption);
  const [{ exist, plan }, sealing] = await Promise.all([askBeforeStop(names, service.volumes), sealed]);
  const encrypted = sealing !== undefined;
  const absent = names.find((_, i) => !exist[i]);
  if (absent) throw new OperationError(`volume ${absent} of ${service.name} does not exist`);
  const warnings = containerWarnings(service.name, plan);
  for (const w of warnings) reporter.warn(service.name, w);

  const { id, created } = await freeName(folder, service.name, ctx.host, ctx.config.compression, encrypted);
  const helper = await createHelper(service.name, names, true);
  const stopped: string[] = [];
  let downStart = 0;
  let downtime = 0;
  let restart: Promise<string[]> | undefined;
  const restartOnce = () =>
    (restart ??= (async () => {
      if (stopped.length === 0) return [];
      reporter.step(service.name, `starting ${startOrder(stopped, plan.declared).join(", ")}`);
      const failures = await startAll(stopped, plan.declared);
      downtime = Date.now() - downStart;
      return failures;
    })());
  const stats: VolumeStats[] = [];
  let written: WrittenArchive | undefined;
  // Awaited where the stream starts; failing here, it fails there.
  localEngineSocket().catch(() => undefined);
  try {
    signal.throwIfAborted();
    if (plan.running.length > 0) {
      await writeJournal(ctx.stateDir, {
        service: service.name,
        pid: process.pid,
        operation: "backup",
        started_at: new Date().toISOString(),
        stopped: plan.running,
        ids: plan.ids,
      });
      reporter.step(service.name, `stopping ${plan.running.join(", ")}`);
      downStart = Date.now();
      await stopAll(plan.running, stopped, ctx.stopTimeout, signal);
    }
    signal.throwIfAborted();
    reporter.step(service.name, `archiving ${names.join(", ")}`);
    // The rate (and so the time left) counts from here, not from the stop.
    const t0 = Date.now();
    const tar = volumesTar(helper, names, stats, {
      signal,
      onEnd: () => void restartOnce(),
      onBytes: (n) => reporter.progress(service.name, n, Date.now() - t0, of),
    });
    written = await writeArchive(
      tar,
      join(folder, archiveName(id, ctx.config.compression, encrypted)),
      ctx.config.compression,
      signal,
      sealing?.sealed,
    );
  } finally {
    // The helper's work is done: it goes while the containers start, and so do those a killed
    // run left (housekeeping, never a reason to fail; a restore has swept before its safety backup).
    const removed = Promise.all([helper.remove(), kind === "pre-restore" ? undefined : removeStaleHelpers()]).catch(
      () => undefined,
    );
    const failures = await restartOnce();
    await removed;
    // A restore's safety backup runs with the containers already stopped: the journal is the restore's.
    if (failures.length === 0 && plan.running.length > 0) await clearJournal(ctx.stateDir, service.name);
    if (failures.length > 0 && written) {
      // The archive is good; the failure to start is still this run's failure, and it replaces
      // whatever error the archiving threw: there was none, or `written` would be unset.
      await publish();
      // biome-ignore lint/correctness/noUnsafeFinally: only reached when the archiving succeeded.
      throw new OperationError(`${service.name} was backed up, but ${failures.join("; ")}`);
    }
    if (failures.length > 0) reporter.warn(service.name, failures.join("; "));
  }
  return await publish();

  function publish(): Promise<BackupResult> {
    return saveBackup(folder, written!.file, {
      format: MANIFEST_FORMAT,
      id,
      service: service.name,
      host: ctx.host,
      created_at: created.toISOString(),
      kind,
      tool_version: VERSION,
      volumes: stats.map((s) => ({ ...s })),
      archive: {
        file: archiveName(id, ctx.config.compression, encrypted),
        bytes: written!.bytes,
        sha256: written!.sha256,
        compression: ctx.config.compression,
        encryption: sealing?.entry,
      },
      duration_ms: Date.now() - started,
      downtime_ms: downtime,
      containers_stopped: stopped,
      warnings,
      custom_script: false,
      restoring,
    });
  }
}

/** What a backup says about containers it cannot stop, or must not: also a dry run's warnings. */
export function containerWarnings(service: string, plan: ContainerPlan): string[] {
  return [
    ...plan.missing.map(
      (c) => `declared container ${c} does not exist; its volumes were read without stopping anything`,
    ),
    ...plan.undeclared.map(
      (c) =>
        `container ${c} uses a volume of ${service} but is not declared; it kept running, ` +
        "so its writes may make the archive inconsistent",
    ),
  ];
}

/**
 * The questions for Docker that must be answered before the stop, asked at once. Each docker
 * CLI call costs a process start, so whatever can wait is asked later, beside Docker's own
 * waits: Docker's endpoint while the containers stop, stale helpers while they start.
 */
export async function askBeforeStop(names: string[], volumes: Service["volumes"]) {
  const [daemon, answers] = await Promise.allSettled([
    checkDaemon(),
    Promise.all([Promise.all(names.map(volumeExists)), planContainers(volumes)]),
  ]);
  // A daemon that cannot be reached fails every question: its own message is the one to show.
  if (daemon.status === "rejected") throw daemon.reason;
  if (answers.status === "rejected") throw answers.reason;
  const [exist, plan] = answers.value;
  return { exist, plan };
}

/**
 * The tar stream's size at the service's newest backup, for the progress line's percent: an
 * estimate, the data has changed since. Undefined when there is none (or no catalog to read).
 */
async function previousSize(backupDir: string, service: string): Promise<number | undefined> {
  const { backups } = await readCatalog(backupDir, service).catch(() => ({ backups: [] as Backup[] }));
  const last = backups.find((b) => !b.manifest.custom_script && b.manifest.volumes.length > 0);
  // The stream also carries a 512-byte tar header per entry.
  return last?.manifest.volumes.reduce((n, v) => n + v.bytes + v.entries * 512, 0);
}
