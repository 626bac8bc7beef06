/**
 * Retention by calendar, with restic's `forget` semantics: newest first, each rule keeps the
 * newest backup of each of its last N periods (hour, day, ISO week, month, year, in the local time
 * zone); `keep_within` keeps everything within that span of the newest backup; and while a rule
 * still has periods left, the oldest backup is kept too, so a short history is kept whole.
 */
export interface CalendarPolicy {
  last: number;
  hourly: number;
  daily: number;
  weekly: number;
  monthly: number;
  yearly: number;
  within?: Span;
}

/** restic's duration: calendar years, months and days, then hours (`2y3m`, `14d`, `36h`). */
export interface Span {
  years: number;
  months: number;
  days: number;
  hours: number;
}

export const RULES = ["last", "hourly", "daily", "weekly", "monthly", "yearly"] as const;
type Rule = (typeof RULES)[number];

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** The period a moment falls in, as the reasons show it; equal strings, same period. */
function periodOf(rule: Exclude<Rule, "last">, t: Date): string {
  const [y, m, d] = [t.getFullYear(), t.getMonth() + 1, t.getDate()];
  if (rule === "hourly") return `${y}-${pad(m)}-${pad(d)} ${pad(t.getHours())}h`;
  if (rule === "daily") return `${y}-${pad(m)}-${pad(d)}`;
  if (rule === "weekly") return isoWeek(y, m, d);
  if (rule === "monthly") return `${y}-${pad(m)}`;
  return String(y);
}

/** ISO 8601 week of a calendar date: weeks start on Monday, week 1 holds the year's first Thursday. */
export function isoWeek(y: number, m: number, d: number): string {
  const DAY = 86_400_000;
  const date = Date.UTC(y, m - 1, d);
  const weekday = (new Date(date).getUTCDay() + 6) % 7;
  const thursday = date + (3 - weekday) * DAY;
  const year = new Date(thursday).getUTCFullYear();
  const week = 1 + Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * DAY));
  return `${year}-W${pad(week)}`;
}

/** `start` moved back by `span`, as Go's AddDate then Add do it (restic's keep-within). */
export function before(start: Date, span: Span): Date {
  const [y, mo, d] = [start.getFullYear() - span.years, start.getMonth() - span.months, start.getDate() - span.days];
  const wall = Date.UTC(y, mo, d, start.getHours(), start.getMinutes(), start.getSeconds(), start.getMilliseconds());
  return new Date(goLocal(wall) - span.hours * 3_600_000);
}

/**
 * The moment a local wall time (its fields given as if UTC) names, picked as Go's time.Date picks
 * it: JavaScript takes the first of a doubled hour, Go the second, and keep_within must be restic's.
 */
function goLocal(wall: number): number {
  const offsetAt = (t: number) => -new Date(t).getTimezoneOffset() * 60_000;
  const guess = offsetAt(wall);
  return wall - offsetAt(wall - guess);
}

export function spanText(s: Span): string {
  const parts = [
    [s.years, "y"],
    [s.months, "m"],
    [s.days, "d"],
    [s.hours, "h"],
  ] as const;
  return (
    parts
      .filter(([n]) => n > 0)
      .map(([n, u]) => `${n}${u}`)
      .join("") || "0h"
  );
}

/**
 * For each backup (newest first, as `times` are given), the rules that keep it, or an empty list
 * when none does. `now`: the newest backup not in the future anchors keep_within, as in restic.
 */
export function keepByCalendar(times: Date[], policy: CalendarPolicy, now: Date): string[][] {
  const left: Record<Rule, number> = { ...policy };
  const lastPeriod: Partial<Record<Rule, string>> = {};
  const anchor = times.find((t) => t.getTime() < now.getTime());
  // With every backup ahead of the clock there is no anchor: restic then keeps them all as within.
  const since = policy.within && anchor ? before(anchor, policy.within).getTime() : Number.NEGATIVE_INFINITY;
  return times.map((t, nr) => {
    const reasons: string[] = [];
    if (policy.within && t.getTime() > since) reasons.push(`within ${spanText(policy.within)}`);
    const oldest = nr === times.length - 1;
    for (const rule of RULES) {
      if (left[rule] <= 0) continue;
      const period = rule === "last" ? String(nr) : periodOf(rule, t);
      const again = period === lastPeriod[rule];
      if (again && !oldest) continue;
      lastPeriod[rule] = period;
      left[rule]--;
      const label = rule === "last" ? `last ${nr + 1}` : `${rule} ${period}`;
      reasons.push(again ? `${label} (the oldest: fewer ${rule} periods than kept)` : label);
    }
    return reasons;
  });
}
