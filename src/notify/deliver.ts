import type { NotifyTarget } from "../config/notify-target.ts";
import { systemErrorText } from "../util/errors.ts";
import { deliverTo, startPing } from "./channels.ts";
import type { NotifyEvent } from "./event.ts";
import { DeliveryError } from "./http-send.ts";

/** One target's outcome; `error` never holds the target's URL or secrets, only what went wrong. */
export interface Delivery {
  target: string;
  ok: boolean;
  error?: string;
}

const RETRY_AFTER_MS = 1_000;

/**
 * Seconds a notification may take (TOOLS_BACKUP_NOTIFY_TIMEOUT, default 10): short, since a run
 * that ended waits for it, and a target down must not hold the next scheduled run.
 */
export function notifyTimeoutMs(env = process.env): number {
  const seconds = Number(env.TOOLS_BACKUP_NOTIFY_TIMEOUT);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 10_000;
}

/** The targets that take `event`, each tried twice at most, all at once; never throws. */
export function deliver(targets: NotifyTarget[], event: NotifyEvent, timeoutMs: number): Promise<Delivery[]> {
  const takes = (t: NotifyTarget) =>
    event.kind === "test" || t.on.includes(event.kind) || (t.kind === "healthchecks" && event.kind !== "stale");
  return Promise.all(targets.filter(takes).map((t) => attempt(t, () => deliverTo(t, event, timeoutMs))));
}

/** Healthchecks' start pings, all at once; never throws. */
export function deliverStart(targets: NotifyTarget[], timeoutMs: number): Promise<Delivery[]> {
  const pinged = targets.filter((t) => t.kind === "healthchecks");
  return Promise.all(pinged.map((t) => attempt(t, () => startPing(t, timeoutMs))));
}

async function attempt(target: NotifyTarget, once: () => Promise<void>): Promise<Delivery> {
  for (let tries = 1; ; tries++) {
    try {
      await once();
      return { target: target.label, ok: true };
    } catch (e) {
      const transient = !(e instanceof DeliveryError) || e.transient;
      if (tries < 2 && transient) {
        await new Promise((r) => setTimeout(r, RETRY_AFTER_MS));
        continue;
      }
      // Not a failure to send (a password file gone): the system's words, which name no secret.
      const why = e instanceof DeliveryError ? e.message : systemErrorText(e);
      return { target: target.label, ok: false, error: `${target.label}: ${why}` };
    }
  }
}
