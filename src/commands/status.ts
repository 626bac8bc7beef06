import { defineCommand } from "citty";
import { stateDir } from "../app/context.ts";
import type { ServiceHealth } from "../app/health.ts";
import { defaultMaxAgeMs } from "../app/health.ts";
import { notifyStale } from "../app/notify-events.ts";
import { readRunStatus } from "../app/run-status.ts";
import { readInstalledEntry } from "../app/schedule.ts";
import { type CopyHealth, enabledHealth, offsiteHealth } from "../app/status-view.ts";
import { cronDaemonRunning, NO_CRON_DAEMON } from "../cron/daemon.ts";
import { brokenEntryProblem } from "../cron/entry.ts";
import { describeSchedule, longestIntervalMs, nextRuns } from "../cron/schedule.ts";
import { futureDatedWarning } from "../retention/future.ts";
import { interrupt } from "../terminal/interrupt.ts";
import { logger } from "../terminal/log.ts";
import { writeOut } from "../terminal/stdout.ts";
import { OperationError, UsageError } from "../util/errors.ts";
import { formatAge, formatBytes, table } from "../util/format.ts";
import { configArgs, context, jsonArg, loadConfig, printJson } from "./_shared.ts";

export default defineCommand({
  meta: { name: "status", description: "Is every enabled service backed up recently? Exit 1 if not (for monitoring)" },
  args: {
    "max-age": {
      type: "string",
      description: "hours a newest backup may be old (default: twice the schedule's interval, at least 26)",
      valueHint: "HOURS",
    },
    ...configArgs,
    ...jsonArg,
  },
  async run({ args }) {
    const session = loadConfig(args);
    const { config } = session;
    // Without crontab on the machine, status still reports the backups themselves.
    const cron = readInstalledEntry().entry;
    const schedule = cron?.line?.schedule;
    const maxAgeMs = maxAge(args["max-age"], schedule);
    const [{ rows, backupDirProblem, unreadable }, offsite, runStatus] = await Promise.all([
      enabledHealth(config, maxAgeMs),
      offsiteHealth(config, maxAgeMs, interrupt.signal),
      readRunStatus(stateDir()),
    ]);
    const notifyFailure = runStatus.notify_failure ?? null;
    for (const u of unreadable) logger.warn(u);
    // A moved binary fails every night from now on: said even while the backups are still fresh.
    const broken = cron && brokenEntryProblem(cron);
    // An installed line without a daemon to run it fails every night just as silently.
    const daemonRunning = cron ? cronDaemonRunning() : undefined;
    const scheduleInfo = schedule
      ? {
          schedule,
          description: describeSchedule(schedule),
          next_run: nextRuns(schedule, 1)[0]!.toISOString(),
          executable: cron.executable ?? null,
          executable_exists: cron.executableExists,
          cron_daemon_running: daemonRunning ?? null,
        }
      : null;
    if (args.json)
      printJson({
        max_age_hours: maxAgeMs / 3_600_000,
        backup_dir_problem: backupDirProblem ?? null,
        schedule: scheduleInfo,
        services: rows,
        offsite,
        notify_failure: notifyFailure,
      });
    else {
      const text = rows.map((r) => [
        r.stale ? "STALE" : "ok",
        r.service,
        r.newest
          ? `${formatAge(new Date(r.newest.created_at))} (${formatBytes(r.newest.bytes)})`
          : backupDirProblem
            ? "unknown"
            : "no backup",
        lastAttempt(r.last_attempt),
      ]);
      writeOut(table([["STATE", "SERVICE", "NEWEST BACKUP", "LAST ATTEMPT"], ...text]) + "\n");
      if (offsite.length > 0) writeOut(`\n${offsiteTable(offsite)}\n`);
      logger.info(
        scheduleInfo ? `schedule: ${scheduleInfo.description}` : "no schedule installed (tools-backup cron install)",
      );
    }
    for (const r of rows.filter((r) => r.dated_in_future.length > 0))
      logger.warn(futureDatedWarning(r.service, r.dated_in_future, "not counted as a recent backup"));
    const stale = rows.filter((r) => r.stale).map((r) => r.service);
    // Without backup_dir every service looks stale: its problem is the one to report.
    const failures = [
      backupDirProblem ??
        (stale.length > 0 ? `no backup newer than ${maxAgeMs / 3_600_000} hours for ${stale.join(", ")}` : undefined),
      broken,
      daemonRunning === false ? NO_CRON_DAEMON : undefined,
      ...offsiteFailures(offsite, maxAgeMs),
    ].filter((f) => f !== undefined);
    if (notifyFailure)
      logger.warn(
        `a notification could not be delivered ${formatAge(new Date(notifyFailure.at))}: ${notifyFailure.error}`,
      );
    await notifyStale(context(session), failures);
    for (const f of failures.slice(1)) logger.error(f);
    if (failures.length > 0) throw new OperationError(failures[0]!);
  },
});

const lastAttempt = (a: ServiceHealth["last_attempt"]) =>
  a ? `${a.ok ? "ok" : "FAILED"} ${formatAge(new Date(a.at))}${a.error ? `: ${a.error}` : ""}` : "-";

function offsiteTable(rows: CopyHealth[]): string {
  const text = rows.map((r) => [
    r.stale ? "STALE" : "ok",
    r.service,
    r.copy,
    r.error ? "unknown" : r.newest ? `${formatAge(new Date(r.newest.created_at))}` : "no copy",
    lastAttempt(r.last_attempt),
  ]);
  return table([["STATE", "SERVICE", "OFFSITE", "NEWEST COPY", "LAST UPLOAD"], ...text]);
}

/** A copy that cannot be read, and each copy without a recent backup of a service, as one line each. */
function offsiteFailures(rows: CopyHealth[], maxAgeMs: number): string[] {
  const unreadable = [...new Set(rows.filter((r) => r.error).map((r) => r.error!))];
  const copies = [...new Set(rows.filter((r) => r.stale && !r.error).map((r) => r.copy))];
  const stale = copies.map((copy) => {
    const services = rows.filter((r) => r.copy === copy && r.stale).map((r) => r.service);
    return `offsite copy ${copy} has no backup newer than ${maxAgeMs / 3_600_000} hours for ${services.join(", ")}`;
  });
  return [...unreadable, ...stale];
}

function maxAge(hours: string | undefined, schedule: string | undefined): number {
  if (hours === undefined) return defaultMaxAgeMs(schedule ? longestIntervalMs(schedule) : undefined);
  const h = Number(hours);
  if (!Number.isFinite(h) || h <= 0) throw new UsageError(`--max-age takes a number of hours > 0, not "${hours}"`);
  return h * 3_600_000;
}
