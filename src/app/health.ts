import { isRegular } from "../archive/naming.ts";
import { newestNotFuture } from "../retention/future.ts";
import type { Backup } from "./catalog.ts";

/** What health is judged by, of a backup in backup_dir or in an offsite copy. */
type Judged = Pick<Backup, "id" | "service" | "host" | "kind" | "complete" | "createdAt" | "bytes">;

/** A service's last backup (or upload) attempt, as the run status records it. */
interface Attempt {
  at: string;
  ok: boolean;
  error?: string;
}

export interface ServiceHealth {
  service: string;
  newest: { id: string; created_at: string; age_hours: number; bytes: number } | null;
  last_attempt: { at: string; ok: boolean; error: string | null } | null;
  /** Ids of this host's backups dated in the future: they never count as recent. */
  dated_in_future: string[];
  /** No complete regular backup of this host newer than the allowed age. */
  stale: boolean;
}

const HOUR = 3_600_000;

/** Twice the schedule's longest gap, never under 26 hours (a nightly run may be late); 26 hours without a schedule. */
export function defaultMaxAgeMs(intervalMs: number | undefined): number {
  return Math.max(26 * HOUR, 2 * (intervalMs ?? 0));
}

/**
 * Per enabled service: is there a recent, complete regular backup made by this machine? A
 * restore's safety backup does not count: it may hold the very data that was broken.
 */
export function serviceHealth(
  enabled: string[],
  backups: Judged[],
  attempts: Record<string, Attempt>,
  host: string,
  maxAgeMs: number,
  now = new Date(),
): ServiceHealth[] {
  return enabled.map((service) => {
    // The manifest's own host: the file name's form of it can be shared ("büro" and "bäro" are "b-ro").
    const mine = backups.filter((b) => b.service === service && b.complete && isRegular(b.kind) && b.host === host);
    const { newest, future } = newestNotFuture(mine, now);
    const last = attempts[service];
    const age = newest ? now.getTime() - newest.createdAt.getTime() : Infinity;
    return {
      service,
      newest: newest
        ? {
            id: newest.id,
            created_at: newest.createdAt.toISOString(),
            age_hours: Math.round((age / HOUR) * 10) / 10,
            bytes: newest.bytes,
          }
        : null,
      last_attempt: last ? { at: last.at, ok: last.ok, error: last.error ?? null } : null,
      dated_in_future: future.map((b) => b.id),
      stale: age > maxAgeMs,
    };
  });
}
