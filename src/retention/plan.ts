/**
 * Pure retention planner: decides which complete backups this machine may delete.
 * No I/O here so the rules can be tested exhaustively and the caller can show a dry run.
 */
import { type BackupKind, isRegular } from "../archive/naming.ts";
import { isFutureDated } from "../util/clock.ts";
import { count } from "../util/format.ts";
import { type CalendarPolicy, keepByCalendar } from "./calendar.ts";

/** One complete backup, in backup_dir or an offsite copy: what retention judges it by. */
export interface RetentionEntry {
  id: string;
  service: string;
  host: string;
  createdAt: Date;
  kind: BackupKind;
  bytes: number;
}

/**
 * retention_days and keep_last, or a calendar: then `calendar` decides the regular backups, and
 * retentionDays is only the safety backups' rule.
 */
export interface RetentionPolicy {
  retentionDays: number;
  keepLast: number;
  calendar?: CalendarPolicy;
}

export interface RetentionPlan<T extends RetentionEntry = RetentionEntry> {
  keep: T[];
  remove: T[];
  /** Why each id was kept or removed, for logs and dry runs. */
  reasons: Map<string, string>;
}

const DAY_MS = 86_400_000;

/** Newest first; the id breaks ties so the plan never depends on input order. */
function newestFirst(a: RetentionEntry, b: RetentionEntry): number {
  const diff = b.createdAt.getTime() - a.createdAt.getTime();
  if (diff !== 0) return diff;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function days(n: number): string {
  return count(n, "day");
}

export function planRetention<T extends RetentionEntry>(
  entries: T[],
  policy: RetentionPolicy,
  host: string,
  now: Date,
): RetentionPlan<T> {
  const keep: T[] = [];
  const remove: T[] = [];
  const reasons = new Map<string, string>();
  // A negative or fractional keep_last must not turn into "remove everything" by accident.
  const keepLast = Math.max(0, Math.floor(policy.keepLast));
  const maxAgeMs = policy.retentionDays * DAY_MS;
  const nowMs = now.getTime();
  // An unparsable date (NaN) is never "old": deleting on bad data is the worse mistake.
  const expired = (entry: T) => nowMs - entry.createdAt.getTime() > maxAgeMs;
  const decide = (entry: T, kept: boolean, reason: string) => {
    (kept ? keep : remove).push(entry);
    reasons.set(entry.id, reason);
  };

  // Group this host's entries per service; other hosts' backups belong to them (shared Drive folder).
  const byService = new Map<string, T[]>();
  for (const entry of entries) {
    if (entry.host !== host) {
      decide(entry, true, "made on another host");
      continue;
    }
    // Kept, and not one of the newest keep_last: counting it would push out the real newest backups.
    if (isFutureDated(entry.createdAt, now)) {
      decide(entry, true, "dated in the future (a wrong clock?): its age cannot be judged");
      continue;
    }
    const list = byService.get(entry.service);
    if (list) list.push(entry);
    else byService.set(entry.service, [entry]);
  }

  for (const list of byService.values()) {
    list.sort(newestFirst);
    // keep_last counts regular backups only: a restore's safety copies must not push out the good ones.
    const regular = list.filter((e) => isRegular(e.kind));
    const safety = list.filter((e) => !isRegular(e.kind));
    if (policy.calendar) {
      const rules = keepByCalendar(
        regular.map((e) => e.createdAt),
        policy.calendar,
        now,
      );
      regular.forEach((entry, i) => {
        const why = rules[i]!;
        decide(entry, why.length > 0, why.length > 0 ? why.join(", ") : "no retention rule keeps it");
      });
    } else
      regular.forEach((entry, index) => {
        if (index < keepLast) decide(entry, true, `one of the newest ${keepLast}`);
        else if (expired(entry)) decide(entry, false, `older than ${days(policy.retentionDays)}`);
        else decide(entry, true, `younger than ${days(policy.retentionDays)}`);
      });
    // Safety backups are undo points: each kept retention_days, and the newest one always.
    safety.forEach((entry, index) => {
      if (!expired(entry)) decide(entry, true, `pre-restore safety backup younger than ${days(policy.retentionDays)}`);
      else if (index === 0) decide(entry, true, "the newest pre-restore safety backup (the last restore's undo point)");
      else decide(entry, false, `older than ${days(policy.retentionDays)}`);
    });
  }

  keep.sort(newestFirst);
  remove.sort(newestFirst);
  return { keep, remove, reasons };
}
