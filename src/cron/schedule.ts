import { CronExpressionParser } from "cron-parser";
import { UsageError } from "../util/errors.ts";

export const DEFAULT_SCHEDULE = "0 3 * * *";
const MACROS = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** A crontab schedule: five fields (cron has no seconds) or one of cron's @macros. */
export function validateSchedule(schedule: string): string {
  const s = schedule.trim().replace(/\s+/g, " ");
  if (!MACROS.has(s) && s.split(" ").length !== 5) {
    throw new UsageError(
      `invalid schedule "${schedule}": ` +
        "a crontab schedule has five fields (minute hour day-of-month month day-of-week), " +
        `e.g. "${DEFAULT_SCHEDULE}"`,
    );
  }
  try {
    CronExpressionParser.parse(s);
  } catch (e) {
    throw new UsageError(`invalid schedule "${schedule}": ${(e as Error).message}`);
  }
  return s;
}

export function nextRuns(schedule: string, count: number, from = new Date()): Date[] {
  const expr = CronExpressionParser.parse(schedule, { currentDate: from });
  return Array.from({ length: count }, () => expr.next().toDate());
}

/** The longest gap between runs over the next week or so: how stale a backup may get. */
export function longestIntervalMs(schedule: string, from = new Date()): number {
  const runs = nextRuns(schedule, 60, from);
  let longest = 0;
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, runs[i]!.getTime() - runs[i - 1]!.getTime());
  return longest;
}

const two = (n: string) => n.padStart(2, "0");

/** The common schedules in words; anything else is described by its fields. */
export function describeSchedule(schedule: string): string {
  if (MACROS.has(schedule)) return `${schedule.slice(1)}`;
  const [min, hour, dom, mon, dow] = schedule.split(" ") as [string, string, string, string, string];
  const num = /^\d+$/;
  if (schedule === "* * * * *") return "every minute";
  if (num.test(min) && hour === "*" && dom === "*" && mon === "*" && dow === "*") return `every hour at minute ${min}`;
  if (/^\*\/\d+$/.test(min) && hour === "*" && dom === "*" && mon === "*" && dow === "*")
    return `every ${min.slice(2)} minutes`;
  if (num.test(min) && num.test(hour) && dom === "*" && mon === "*") {
    const at = `at ${two(hour)}:${two(min)}`;
    if (dow === "*") return `every day ${at}`;
    if (/^[0-7](,[0-7])*$/.test(dow))
      return `${at} on ${dow
        .split(",")
        .map((d) => DAYS[Number(d) % 7])
        .join(", ")}`;
  }
  return `at minute ${min}, hour ${hour}, day-of-month ${dom}, month ${mon}, day-of-week ${dow}`;
}
