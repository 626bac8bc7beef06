/**
 * The settings screen's retention: by age (retention_days and keep_last, as before) or by calendar
 * (backup.yaml's `retention:` keep_* rules), with a line saying what a year of nightly backups keeps.
 */
import { select } from "@clack/prompts";
import { type CalendarKeeps, type ConfigEdits, KEEP_KEYS } from "../config/edit-config.ts";
import { keepsText } from "../config/edit-summary.ts";
import { calendarOf, keepsAny } from "../config/retention-config.ts";
import { yearPreview } from "../retention/preview.ts";
import { askWholeNumber } from "./ask-number.ts";
import { ask, out, say } from "./io.ts";

/** The example: a week of days, a month of weeks, a year of months, three years. */
const SUGGESTED: CalendarKeeps = { keep_last: 3, keep_daily: 7, keep_weekly: 4, keep_monthly: 12, keep_yearly: 3 };

const ASKED: [(typeof KEEP_KEYS)[number], string][] = [
  ["keep_last", "Always keep how many newest backups? (keep_last)"],
  ["keep_daily", "Keep one a day for how many days? (keep_daily)"],
  ["keep_weekly", "Keep one a week for how many weeks? (keep_weekly)"],
  ["keep_monthly", "Keep one a month for how many months? (keep_monthly)"],
  ["keep_yearly", "Keep one a year for how many years? (keep_yearly)"],
];

export const previewOf = (keeps: CalendarKeeps) => yearPreview(calendarOf(keeps));

/** Asks by age or by calendar, then that kind's numbers; the answers go into `edits`. */
export async function askRetention(
  edits: ConfigEdits,
  current: { retention_days: number; retention?: CalendarKeeps | null },
): Promise<void> {
  const kind = await ask(
    select({
      ...out,
      message: "How should old backups be deleted?",
      initialValue: current.retention ? "calendar" : "age",
      options: [
        { value: "age", label: "By age", hint: "after retention_days, always keeping the newest keep_last" },
        { value: "calendar", label: "By calendar", hint: "the newest few, then one a day, a week, a month, a year" },
      ],
    }),
  );
  if (kind === "age") {
    const n = await askWholeNumber(
      "Delete this machine's backups after how many days? (retention_days)",
      current.retention_days,
      36500,
    );
    if (n === undefined) return;
    edits.retention_days = n;
    edits.retention = null;
  } else if (kind === "calendar") {
    const keeps = await askKeeps(current.retention ?? SUGGESTED);
    if (keeps) edits.retention = keeps;
  }
}

/** The keep_* numbers, 0 for none; rules only written by hand (keep_hourly, keep_within) stay. */
async function askKeeps(initial: CalendarKeeps): Promise<CalendarKeeps | undefined> {
  const keeps: CalendarKeeps = { ...initial };
  for (const [key, message] of ASKED) {
    const n = await askWholeNumber(message, initial[key] ?? 0, 100_000, 0);
    if (n === undefined) return undefined;
    if (n > 0) keeps[key] = n;
    else delete keeps[key];
  }
  const ordered = Object.fromEntries(
    [...KEEP_KEYS, "keep_within" as const].filter((k) => keeps[k] !== undefined).map((k) => [k, keeps[k]]),
  ) as CalendarKeeps;
  if (!keepsAny(calendarOf(ordered))) {
    say.warn("that would keep nothing: give at least one rule above 0; retention is unchanged");
    return undefined;
  }
  say.info(previewOf(ordered));
  return ordered;
}

/** The retention as the settings overview says it: the two numbers, or the calendar and its year. */
export function retentionText(v: {
  retention?: CalendarKeeps | null;
  retention_days: unknown;
  keep_last: unknown;
}): string {
  if (v.retention) return `by calendar: ${keepsText(v.retention)} (${previewOf(v.retention)})`;
  return `${v.retention_days} days, always the newest ${v.keep_last} per service`;
}
