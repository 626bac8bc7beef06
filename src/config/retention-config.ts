/**
 * backup.yaml's `retention:` block (top level, or in an offsite copy): restic's keep rules. It
 * replaces retention_days and keep_last where it is written; the two keep working alone.
 */
import * as v from "valibot";
import type { CalendarPolicy, Span } from "../retention/calendar.ts";
import type { RetentionPolicy } from "../retention/plan.ts";
import { configErrorAt, strictMapping } from "./schema-errors.ts";
import type { PathKey, YamlSource } from "./yaml-source.ts";

const COUNT = "a whole number from 0 to 100000";
const count = v.optional(
  v.pipe(v.number(COUNT), v.integer(COUNT), v.minValue(0, COUNT), v.maxValue(100_000, COUNT)),
  0,
);
const SPAN = /^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?(?:(\d+)h)?$/;
const SPAN_TEXT = 'a span like "2d", "36h", "1y6m" (y, m, d, h)';

export const retentionSchema = v.optional(
  strictMapping(
    {
      keep_last: count,
      keep_hourly: count,
      keep_daily: count,
      keep_weekly: count,
      keep_monthly: count,
      keep_yearly: count,
      keep_within: v.optional(v.pipe(v.string(SPAN_TEXT), v.regex(SPAN, SPAN_TEXT), v.minLength(2, SPAN_TEXT))),
    },
    "a mapping of keep_last, keep_daily, keep_weekly, keep_monthly, keep_yearly, keep_hourly, keep_within",
  ),
);

type Raw = NonNullable<v.InferOutput<typeof retentionSchema>>;

export function parseSpan(text: string): Span | undefined {
  const m = SPAN.exec(text);
  if (!m || text === "") return undefined;
  const [years, months, days, hours] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number];
  return { years, months, days, hours };
}

/**
 * The policy at `at` (["retention"] or ["offsite", i, "retention"]): the calendar when written,
 * else `fallback`. `ageKeys`: retention_days / keep_last written beside it, which it replaces.
 */
export function retentionPolicy(
  src: YamlSource,
  at: PathKey[],
  raw: Raw | undefined,
  fallback: RetentionPolicy,
  ageKeys: string[],
): RetentionPolicy {
  if (!raw) return fallback;
  if (ageKeys.length > 0) {
    const where = [...at.slice(0, -1), ageKeys[0]!];
    throw configErrorAt(src, where, `retention: replaces ${ageKeys.join(" and ")}; keep one or the other`);
  }
  const calendar = calendarOf(raw);
  if (!keepsAny(calendar))
    throw configErrorAt(src, at, "would keep nothing: give at least one keep_* rule above 0", { at: "key" });
  // The safety backups' own rule stays: retention_days' default.
  return { retentionDays: fallback.retentionDays, keepLast: fallback.keepLast, calendar };
}

/** The policy of a `retention:` mapping's values (absent counts are 0). */
export function calendarOf(raw: Partial<Omit<Raw, "keep_within">> & { keep_within?: string }): CalendarPolicy {
  const span = raw.keep_within === undefined ? undefined : parseSpan(raw.keep_within);
  const within = span && Object.values(span).some((n) => n > 0) ? span : undefined;
  return {
    last: raw.keep_last ?? 0,
    hourly: raw.keep_hourly ?? 0,
    daily: raw.keep_daily ?? 0,
    weekly: raw.keep_weekly ?? 0,
    monthly: raw.keep_monthly ?? 0,
    yearly: raw.keep_yearly ?? 0,
    ...(within && { within }),
  };
}

export const keepsAny = (c: CalendarPolicy) => Object.values(c).some((n) => typeof n === "object" || n > 0);
