import type { BackupKind } from "../archive/naming.ts";
import type { EnabledServices } from "../config/enabled-services.ts";
import type { Service } from "../config/service-config.ts";
import { EXIT } from "../util/errors.ts";
import { count, formatBytes, formatDuration } from "../util/format.ts";
import type { RunContext } from "./context.ts";
import { runAborted, runEnded, runStarting } from "./notify-run.ts";
import type { OffsiteOutcome } from "./offsite-send.ts";
import { type BackupRun, failedOutcome, runBackups } from "./run-backups.ts";
import { recordRun } from "./run-status.ts";

export interface BackupNowOptions {
  kind: BackupKind;
  wait: boolean;
  /** The scheduled run: recorded as such for `status`. */
  cron: boolean;
  /** Enabled entries that could not be loaded: each counts as a failed backup. */
  broken?: EnabledServices["broken"];
  /** How a success line names the downtime ("down", "containers down"). */
  downWord: string;
}

/** Where a run's outcome is told: each service's success or failure, and what retention removed. */
export interface RunTeller {
  success(message: string): void;
  error(message: string): void;
  info(message: string): void;
}

/**
 * A backup run as both front ends start it: the backups, recorded for `status`, then told line
 * by line. Returns the run and, when a backup failed, the summary to fail with.
 */
export async function backUpNow(ctx: RunContext, services: Service[], opts: BackupNowOptions, tell: RunTeller) {
  const started = runStarting(ctx);
  const begun = new Date().toISOString();
  const run = await runBackups(ctx, services, opts.kind, { wait: opts.wait }).catch(async (e) => {
    await runAborted(ctx, begun, e, started);
    throw e;
  });
  // Recorded like any failed backup, so that `status` shows what keeps a service from its backups.
  run.results.push(...(opts.broken ?? []).map((b) => failedOutcome(b.service, b.error)));
  const status = await recordRun(ctx.stateDir, run, opts.cron);
  const log: string[] = [];
  const failure = tellRun(run, loggedTeller(tell, log), opts.downWord);
  const exitCode = failure === undefined ? EXIT.ok : (opts.broken ?? []).length > 0 ? EXIT.usage : EXIT.failed;
  await runEnded(ctx, run, { exitCode, summary: failure, log, status }, started);
  return { run, failure };
}

/** The teller, with every line also kept: a notification carries them. */
function loggedTeller(tell: RunTeller, log: string[]): RunTeller {
  return {
    success(m) {
      log.push(m);
      tell.success(m);
    },
    error(m) {
      log.push(`error: ${m}`);
      tell.error(m);
    },
    info(m) {
      log.push(m);
      tell.info(m);
    },
  };
}

function tellRun(run: BackupRun, tell: RunTeller, downWord: string): string | undefined {
  for (const r of run.results) {
    const downtime = `${downWord} ${formatDuration(r.downtimeMs)}`;
    const took = `${formatBytes(r.bytes)}, ${formatDuration(r.durationMs)}, ${downtime}`;
    if (r.ok) tell.success(`${r.service}: ${r.file} (${took})`);
    else tell.error(`${r.service}: ${r.error}`);
  }
  for (const o of run.offsite.filter((o) => !o.ok)) tell.error(`${o.service}: ${offsiteFailure(o)}`);
  for (const id of run.pruned) tell.info(`retention: removed ${id}`);
  const failed = run.results.filter((r) => !r.ok);
  const lost = run.offsite.filter((o) => !o.ok);
  const parts: string[] = [];
  if (failed.length > 0)
    parts.push(`${failed.length} of ${run.results.length} backups failed: ${failed.map((f) => f.service).join(", ")}`);
  if (lost.length > 0) {
    const which = lost.map((o) => `${o.service} to ${o.copy}`).join(", ");
    parts.push(`${count(lost.length, "offsite upload")} failed (${which}); the local backups are intact`);
  }
  return parts.length > 0 ? parts.join("; ") : undefined;
}

/** "offsite copy b2 failed: REASON" (the reason without the copy's name it starts with). */
export function offsiteFailure(o: OffsiteOutcome): string {
  const reason = o.error?.startsWith(`${o.copy}: `) ? o.error.slice(o.copy.length + 2) : o.error;
  return `offsite copy ${o.copy} failed: ${reason}`;
}
