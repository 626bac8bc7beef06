import { note } from "@clack/prompts";
import type { Service } from "../config/service-config.ts";
import type { Backup } from "../app/catalog.ts";
import { lockOptions, type RunContext } from "../app/context.ts";
import { withServiceLock } from "../app/lock.ts";
import { planRestore, type RestorePlan } from "../app/restore-plan.ts";
import { checkDaemon } from "../docker/engine.ts";
import { restoreService, type RestoreResult } from "../app/restore.ts";
import { checkRestorable } from "../app/restore-check.ts";
import { isRegular } from "../archive/naming.ts";
import { undoneRestore } from "../app/select-backup.ts";
import { count, formatAge, formatBytes, formatLocal } from "../util/format.ts";
import { typedConfirmation } from "../terminal/confirm.ts";
import { logger } from "../terminal/log.ts";
import { isTerminal } from "../terminal/tty.ts";

/** What a restore will overwrite, shown before the typed confirmation by `restore` and the wizard alike. */
export function describeRestore(plan: RestorePlan, safety: boolean): string {
  const b = plan.backup;
  const lines = [
    // A safety backup holds the data a restore replaced: restoring it undoes that restore.
    ...(isRegular(b.kind) ? [] : [`Undo ${undoneRestore(b)}: put back the data it replaced`]),
    `Restore ${b.service} from ${b.id}`,
    `  backup:   ${formatLocal(b.createdAt)} (${formatAge(b.createdAt)}), host ${b.host}, ${formatBytes(b.bytes)}, ${b.kind}`,
    `  volumes:  ${b.manifest.volumes.map((v) => `${v.name} (${count(v.files, "file")}, ${formatBytes(v.bytes)})`).join(", ")}`,
    "Will be overwritten:",
    ...plan.current.map((v) => `  ${v.name}: ${formatBytes(v.kib * 1024)}, last changed ${v.newestMtime ? `${formatLocal(v.newestMtime)} (${formatAge(v.newestMtime)})` : "never"}`),
    ...plan.missing.map((v) => `  ${v}: does not exist, will be created`),
    `Containers stopped and started again: ${plan.stop.join(", ") || "none running"}`,
    safetyLine(plan, safety),
  ];
  return lines.join("\n");
}

function safetyLine(plan: RestorePlan, safety: boolean): string {
  if (plan.fresh) return "No safety backup: every volume is created by this restore, so there is no data to keep.";
  if (safety) return "The current data is backed up first (kind pre-restore) and put back if the restore fails.";
  return "WARNING: --no-safety-backup: the current data will be gone for good.";
}

/** One look for the command and the wizard: a box on a terminal, plain lines elsewhere. */
function showSummary(summary: string): void {
  if (isTerminal()) note(summary, "Restore", { output: process.stderr });
  else logger.log(summary);
}

export interface RestoreOptions {
  safetyBackup: boolean;
  /** Queue behind a running backup or restore of the service instead of failing. */
  wait: boolean;
  /** Skip the typed confirmation (`--yes`). */
  yes?: boolean;
  /** Show the plan and run the checks only. */
  dryRun?: boolean;
  /** Where the outcome goes. */
  say?: { success(message: string): void; info(message: string): void };
}

/**
 * The one restore sequence, for the command and the wizard: plan and verification, summary,
 * typed RESTORE (anything else: false, nothing changed), then restoreService under the
 * service's lock. A damaged archive is refused before the summary: nobody is asked to confirm
 * a restore that would fail.
 */
export async function confirmAndRestore(ctx: RunContext, service: Service, backup: Backup, opts: RestoreOptions): Promise<boolean> {
  const say = opts.say ?? { success: (m: string) => logger.success(m), info: (m: string) => logger.info(m) };
  await checkDaemon();
  // Verified while the plan is gathered (and the emptying armed), both only read.
  const verified = checkRestorable(ctx, service, backup);
  verified.catch(() => undefined); // awaited below; a failure must not count as unhandled first
  const plan = await planRestore(service, backup, { arm: !opts.dryRun });
  let result: RestoreResult;
  try {
    await verified;
    showSummary(describeRestore(plan, opts.safetyBackup));
    if (opts.dryRun) {
      say.success(`dry run: ${backup.id} passed every check; nothing was changed`);
      return true;
    }
    if (!opts.yes && !(await typedConfirmation(`This replaces ALL current data of ${service.name}.`))) return false;
    result = await withServiceLock(ctx.stateDir, service, lockOptions(ctx, service.name, opts.wait), () =>
      restoreService(ctx, service, backup, { safetyBackup: opts.safetyBackup, verified, emptier: plan.emptier }),
    );
  } finally {
    // Declined, refused or done: its container ends, having touched nothing unless told to.
    await plan.emptier?.close();
  }
  say.success(`${service.name} restored from ${backup.id}${result.restarted.length ? `; started ${result.restarted.join(", ")}` : ""}`);
  if (result.safety) say.info(`the data from before the restore is kept as ${result.safety.manifest.id} (${result.safety.file})`);
  return true;
}
