import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Debian's cron, and cronie's or busybox's crond (Red Hat, Arch, Alpine). */
const DAEMONS = new Set(["cron", "crond"]);

export const NO_CRON_DAEMON =
  "the schedule is installed, but no cron daemon is running: scheduled backups will not run " +
  "until one is started (e.g. `service cron start`)";

/**
 * Whether a cron daemon runs: an installed line is worth nothing without one. macOS's launchd
 * starts cron by itself when a crontab exists. Undefined when it cannot be told (another system,
 * or a /proc mounted with hidepid, where root's daemon would look absent).
 */
export function cronDaemonRunning(platform: NodeJS.Platform = process.platform, proc = "/proc"): boolean | undefined {
  if (platform === "darwin") return true;
  if (platform !== "linux") return undefined;
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((n) => /^\d+$/.test(n));
  } catch {
    return undefined;
  }
  if (!pids.includes("1")) return undefined;
  return pids.some((pid) => isCronDaemon(join(proc, pid, "stat")));
}

/** The schedule's warning when no daemon runs, else undefined. */
export function cronDaemonProblem(): string | undefined {
  return cronDaemonRunning() === false ? NO_CRON_DAEMON : undefined;
}

/** A killed daemon nobody reaped stays a zombie under its name: it runs nothing. */
function isCronDaemon(statFile: string): boolean {
  let stat: string;
  try {
    stat = readFileSync(statFile, "utf8");
  } catch {
    return false; // the process ended meanwhile
  }
  // "1234 (cron) S ...": the name may hold spaces and parentheses; the state follows the last one.
  const close = stat.lastIndexOf(")");
  const state = stat.slice(close + 2, close + 3);
  return DAEMONS.has(stat.slice(stat.indexOf("(") + 1, close)) && state !== "Z" && state !== "X";
}
