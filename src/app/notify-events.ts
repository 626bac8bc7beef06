/**
 * The notifications that come from outside a backup run: `status` finding stale backups, and
 * `notify test`. A stale state is told once, when it starts or changes, not at every check a
 * monitor runs.
 */
import { safeHost } from "../archive/naming.ts";
import { type Delivery, deliver, notifyTimeoutMs } from "../notify/deliver.ts";
import type { NotifyEvent } from "../notify/event.ts";
import type { RunContext } from "./context.ts";
import { keepFailures } from "./notify-run.ts";
import { readRunStatus, recordStaleNotified } from "./run-status.ts";

/** `problems`: what makes the backups stale, one line each; empty when all is well again. */
export async function notifyStale(ctx: RunContext, problems: string[]): Promise<void> {
  const key = problems.join("\n");
  const status = await readRunStatus(ctx.stateDir);
  if ((status.stale_notified ?? "") === key) return;
  if (problems.length > 0) {
    const event = eventOf(ctx, "stale", `backups are stale: ${problems[0]}`, problems);
    const deliveries = await deliver(ctx.config.notify, event, notifyTimeoutMs());
    await keepFailures(ctx, deliveries);
    // Told nowhere: the next check tries again.
    if (deliveries.length > 0 && !deliveries.some((d) => d.ok)) return;
  }
  await recordStaleNotified(ctx.stateDir, key);
}

/** One test event to every target, whatever events it takes. */
export async function notifyTest(ctx: RunContext): Promise<Delivery[]> {
  const event = eventOf(ctx, "test", "test notification", ["If you read this, notifications from this machine work."]);
  const deliveries = await deliver(ctx.config.notify, event, notifyTimeoutMs());
  await keepFailures(ctx, deliveries);
  return deliveries;
}

function eventOf(ctx: RunContext, kind: NotifyEvent["kind"], what: string, lines: string[]): NotifyEvent {
  const host = safeHost(ctx.host);
  const at = new Date().toISOString();
  return { kind, title: `tools-backup on ${host}: ${what}`, text: lines.join("\n"), host: ctx.host, at, services: [] };
}
