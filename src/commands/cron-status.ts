import { join } from "node:path";
import { defineCommand } from "citty";
import { stateDir } from "../app/context.ts";
import { readRunStatus } from "../app/run-status.ts";
import { scheduledVersion } from "../app/schedule.ts";
import { cronDaemonRunning, NO_CRON_DAEMON } from "../cron/daemon.ts";
import { brokenEntryProblem, installedEntry } from "../cron/entry.ts";
import { describeSchedule, nextRuns } from "../cron/schedule.ts";
import { logger } from "../terminal/log.ts";
import { OperationError } from "../util/errors.ts";
import { formatLocal } from "../util/format.ts";
import { VERSION_LINE } from "../util/version.ts";
import { jsonArg, printJson } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "status",
    description: "Is the scheduled backup installed, when does it run next, how did the last run go",
  },
  args: { ...jsonArg, debug: { type: "boolean", description: "show stack traces of unexpected errors" } },
  async run({ args }) {
    const entry = installedEntry();
    const state = stateDir();
    const { last_run } = await readRunStatus(state);
    const schedule = entry?.line?.schedule;
    const report = {
      installed: Boolean(entry),
      schedule: schedule ?? null,
      description: schedule ? describeSchedule(schedule) : null,
      next_run: schedule ? nextRuns(schedule, 1)[0]!.toISOString() : null,
      line: entry?.text ?? null,
      executable: entry?.executable ?? null,
      executable_exists: entry ? entry.executableExists : null,
      executable_version: (entry && scheduledVersion(entry)) ?? null,
      daemon_running: cronDaemonRunning() ?? null,
      log: entry?.line?.log ?? join(state, "cron.log"),
      last_run: last_run ?? null,
    };
    if (args.json) printJson(report);
    if (!entry) return logger.info("no scheduled backup installed (tools-backup cron install)");
    logger.info(`installed: ${report.description}; next run ${formatLocal(new Date(report.next_run!))}`);
    logger.info(`line: ${entry.text}`);
    if (report.daemon_running === false) logger.warn(NO_CRON_DAEMON);
    if (report.executable_version && report.executable_version !== VERSION_LINE)
      logger.warn(
        `the scheduled line runs ${entry.executable}, version ${report.executable_version}; this is ${VERSION_LINE}. ` +
          "`tools-backup cron relink` run from the binary the schedule should use points it there",
      );
    logger.info(`log: ${report.log}`);
    if (last_run) {
      logger.info(`last run ${last_run.finished_at}${last_run.cron ? " (scheduled)" : ""}:`);
      for (const r of last_run.results)
        (r.ok ? logger.success : logger.error)(`  ${r.service}: ${r.ok ? r.file : r.error}`);
    } else logger.info("no run recorded yet");
    const broken = brokenEntryProblem(entry);
    if (broken) throw new OperationError(broken);
  },
});
