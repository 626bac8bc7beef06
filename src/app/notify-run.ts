/**
 * Telling the configured targets about a backup run (notifications, Healthchecks pings) and
 * writing the metrics file. Neither ever fails the run: what could not be delivered is a warning
 * and is kept for `status`. Everything happens after the containers run again, except the
 * start ping, which is sent alongside the run and never waited for before it.
 */
import { safeHost } from "../archive/naming.ts";
import { type Delivery, deliver, deliverStart, notifyTimeoutMs } from "../notify/deliver.ts";
import type { NotifyEvent, ServiceReport } from "../notify/event.ts";
import { metricsText, writeMetricsFile } from "../notify/metrics.ts";
import { exitCodeOf, messageOf } from "../util/errors.ts";
import type { RunContext } from "./context.ts";
import type { BackupRun } from "./run-backups.ts";
import { type RunStatus, readRunStatus, recordDeliveries } from "./run-status.ts";

/** Healthchecks' start pings, under way while the run goes on. */
export function runStarting(ctx: RunContext): Promise<Delivery[]> {
  return deliverStart(ctx.config.notify, notifyTimeoutMs());
}

/** The run's outcome to every target that takes it, then the metrics file. */
export async function runEnded(
  ctx: RunContext,
  run: BackupRun,
  outcome: { exitCode: number; summary?: string; log: string[]; status: RunStatus },
  started: Promise<Delivery[]>,
): Promise<void> {
  const failed = outcome.exitCode !== 0;
  const host = safeHost(ctx.host);
  const event: NotifyEvent = {
    kind: failed ? "failure" : "success",
    title: failed ? `tools-backup on ${host}: ${outcome.summary}` : `tools-backup on ${host}: ${okTitle(run)}`,
    text: outcome.log.slice(-LOG_LINES).join("\n"),
    host: ctx.host,
    at: run.finished_at,
    exitCode: outcome.exitCode,
    services: reports(run),
  };
  const deliveries = [...(await started), ...(await deliver(ctx.config.notify, event, notifyTimeoutMs()))];
  await keepFailures(ctx, deliveries);
  if (ctx.config.metricsFile) await writeMetrics(ctx, outcome.status, run);
}

/** A run that stopped before its end (interrupted, or refused before any backup): the targets hear of it too. */
export async function runAborted(ctx: RunContext, begun: string, error: unknown, started: Promise<Delivery[]>) {
  const run: BackupRun = {
    started_at: begun,
    finished_at: new Date().toISOString(),
    results: [],
    offsite: [],
    pruned: [],
  };
  const outcome = { exitCode: exitCodeOf(error), summary: messageOf(error), log: [messageOf(error)] };
  await runEnded(ctx, run, { ...outcome, status: await readRunStatus(ctx.stateDir) }, started);
}

/** A notification's log tail: the end of what the run told. */
const LOG_LINES = 40;

function okTitle(run: BackupRun): string {
  const n = run.results.length;
  return n === 1 ? `${run.results[0]!.service} backed up` : `${n} services backed up`;
}

function reports(run: BackupRun): ServiceReport[] {
  return run.results.map((r) => ({
    service: r.service,
    ok: r.ok,
    error: r.error,
    bytes: r.bytes,
    durationMs: r.durationMs,
    downtimeMs: r.downtimeMs,
    offsite: run.offsite.filter((o) => o.service === r.service && o.ok).map((o) => o.copy),
  }));
}

/** Each failure a warning, and kept for `status` until a later round reaches that target. */
export async function keepFailures(ctx: RunContext, deliveries: Delivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  const at = new Date().toISOString();
  const failed = deliveries.filter((d) => !d.ok).map((d) => ({ target: d.target, at, error: d.error! }));
  for (const f of failed) ctx.reporter.warn("notify", `could not notify ${f.error}`);
  const reached = deliveries.filter((d) => d.ok).map((d) => d.target);
  await recordDeliveries(ctx.stateDir, { reached, failed, configured: ctx.config.notify.map((t) => t.label) });
}

/** The services of this backup.yaml, and any this run backed up by name: the state folder may know others'. */
async function writeMetrics(ctx: RunContext, status: RunStatus, run: BackupRun): Promise<void> {
  const services = [...new Set([...Object.keys(ctx.config.services), ...run.results.map((r) => r.service)])].sort();
  const rows = services.map((service) => ({
    service,
    lastOk: status.services[service]?.ok ?? false,
    lastSuccess: status.last_success[service],
    failures: status.failures[service] ?? 0,
  }));
  await writeMetricsFile(ctx.config.metricsFile!, metricsText(rows)).catch((e) =>
    ctx.reporter.warn("metrics", `could not write ${ctx.config.metricsFile}: ${messageOf(e)}`),
  );
}
