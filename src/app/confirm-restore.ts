import type { Service } from "../config/service-config.ts";
import { checkDaemon } from "../docker/daemon.ts";
import { anyKeyFor, requireSafetyOpenable } from "./archive-keys.ts";
import { type Backup, LOCAL } from "./catalog.ts";
import { lockOptions, type RunContext } from "./context.ts";
import { withServiceLock } from "./lock.ts";
import { localBackup } from "./offsite-fetch.ts";
import { type RestoreResult, restoreService } from "./restore.ts";
import { checkRestorable, DamagedArchive } from "./restore-check.ts";
import { planRestore } from "./restore-plan.ts";
import { describeRestore } from "./restore-summary.ts";

export interface RestoreOptions {
  safetyBackup: boolean;
  /** Queue behind a running backup or restore of the service instead of failing. */
  wait: boolean;
  /** Skip the typed confirmation (`--yes`). */
  yes?: boolean;
  /** Show the plan and run the checks only. */
  dryRun?: boolean;
  /** Restore from this offsite copy even when backup_dir has the backup (`--offsite NAME`). */
  offsite?: string;
}

/** How a front end shows the summary, asks for the typed confirmation and tells the outcome. */
export interface RestorePrompts {
  show(summary: string): void;
  confirm(message: string): Promise<boolean>;
  success(message: string): void;
  info(message: string): void;
}

/**
 * The one restore sequence, for the command and the wizard: the backup fetched from an offsite
 * copy when backup_dir lacks it, plan and verification, summary,
 * typed RESTORE (anything else: false, nothing changed), then restoreService under the
 * service's lock. A damaged archive is refused before the summary: nobody is asked to confirm
 * a restore that would fail.
 */
export async function confirmAndRestore(
  ctx: RunContext,
  service: Service,
  backup: Backup,
  opts: RestoreOptions,
  ui: RestorePrompts,
): Promise<boolean> {
  await checkDaemon();
  if (opts.safetyBackup) await requireSafetyOpenable(ctx);
  // Refused from the manifest alone: no archive is fetched that could not be opened.
  anyKeyFor(ctx.config, backup);
  backup = await localBackup(ctx, backup, opts.offsite);
  // Verified while the plan is gathered (and the emptying armed), both only read.
  const verified = verifiedOrFetched(ctx, service, backup, opts.offsite);
  verified.catch(() => undefined); // awaited below; a failure must not count as unhandled first
  const plan = await planRestore(service, backup, { arm: !opts.dryRun });
  let result: RestoreResult;
  try {
    await verified;
    ui.show(describeRestore(plan, opts.safetyBackup));
    if (opts.dryRun) {
      ui.success(`dry run: ${backup.id} passed every check; nothing was changed`);
      return true;
    }
    if (!opts.yes && !(await ui.confirm(`This replaces ALL current data of ${service.name}.`))) return false;
    result = await withServiceLock(ctx.stateDir, service, lockOptions(ctx, service.name, opts.wait), () =>
      restoreService(ctx, service, backup, { safetyBackup: opts.safetyBackup, verified, emptier: plan.emptier }),
    );
  } finally {
    // Declined, refused or done: its container ends, having touched nothing unless told to.
    await plan.emptier?.close();
  }
  const started = result.restarted.length ? `; started ${result.restarted.join(", ")}` : "";
  ui.success(`${service.name} restored from ${backup.id}${started}`);
  if (result.safety)
    ui.info(`the data from before the restore is kept as ${result.safety.manifest.id} (${result.safety.file})`);
  return true;
}

/**
 * checkRestorable; when backup_dir's archive is damaged and an offsite copy has the backup whole,
 * that copy replaces it (same id, same path) and is verified in turn.
 */
async function verifiedOrFetched(ctx: RunContext, service: Service, backup: Backup, forced?: string) {
  try {
    await checkRestorable(ctx, service, backup);
  } catch (e) {
    const elsewhere = backup.locations.filter((l) => l !== LOCAL);
    if (!(e instanceof DamagedArchive) || forced !== undefined || elsewhere.length === 0) throw e;
    ctx.reporter.warn(service.name, `${e.message}; fetching it from ${elsewhere.join(" or ")}`);
    await localBackup(ctx, { ...backup, locations: elsewhere });
    await checkRestorable(ctx, service, backup);
  }
}
