import { confirm, note, select, text } from "@clack/prompts";
import { stateDir } from "../app/context.ts";
import { readRunStatus } from "../app/run-status.ts";
import { installSchedule, readInstalledEntry } from "../app/schedule.ts";
import type { Session } from "../app/session.ts";
import { cronDaemonRunning } from "../cron/daemon.ts";
import { uninstallEntry } from "../cron/entry.ts";
import { DEFAULT_SCHEDULE, describeSchedule, nextRuns, validateSchedule } from "../cron/schedule.ts";
import { messageOf } from "../util/errors.ts";
import { formatLocal } from "../util/format.ts";
import { ask, out, say } from "./io.ts";

/** One line for headers: installed or not, when next, and whatever would make it fail. */
export function scheduleLine(session: Session): string {
  const { entry, error } = readInstalledEntry();
  if (error) return `unknown (${error})`;
  if (!entry) return "not installed";
  const schedule = entry.line?.schedule;
  const when = schedule ? `${describeSchedule(schedule)}, next ${formatLocal(nextRuns(schedule, 1)[0]!)}` : entry.text;
  const config = entry.line?.command[entry.line.command.indexOf("--config") + 1];
  const problems = [
    ...(!entry.executableExists ? [`FAILING: ${entry.executable} no longer exists`] : []),
    ...(cronDaemonRunning() === false ? ["installed, but NO cron daemon is running: it will not run"] : []),
    ...(config && config !== session.config.file ? [`uses another backup.yaml: ${config}`] : []),
  ];
  return [when, ...problems].join("; ");
}

/** Installs the schedule and says so in the screens. */
async function installAndTell(session: Session, schedule: string): Promise<void> {
  const { replaced, line, noDaemon, keyless } = await installSchedule(session, schedule);
  const next = nextRuns(schedule, 3).map(formatLocal).join(", ");
  say.success(
    `${replaced ? "replaced" : "installed"} the scheduled backup: ${describeSchedule(schedule)}; next runs ${next}`,
  );
  say.info(`output goes to ${line.log}`);
  if (noDaemon) say.warn(noDaemon);
  for (const k of keyless) say.warn(k);
}

/** First-run setup's last step: the nightly run, offered with yes as the default. */
export async function offerSchedule(session: Session): Promise<void> {
  const yes = await ask(
    confirm({
      ...out,
      message: `Install the nightly backup in your crontab (${describeSchedule(DEFAULT_SCHEDULE)})?`,
      initialValue: true,
    }),
  );
  if (yes) await installAndTell(session, DEFAULT_SCHEDULE);
  else say.info("no schedule installed; Settings > Schedule, or `tools-backup cron install`, adds it later");
}

/** Settings > Schedule: status, then install, replace or remove. The crontab is changed only after a choice. */
export async function scheduleScreen(session: Session): Promise<void> {
  const { entry, error } = readInstalledEntry();
  if (error) return say.error(error);
  const { last_run } = await readRunStatus(stateDir());
  const lines = [`Status: ${scheduleLine(session)}`];
  if (entry) lines.push(`Line: ${entry.text}`);
  if (last_run) {
    const finished = formatLocal(new Date(last_run.finished_at));
    const results = last_run.results.map((r) => `${r.service} ${r.ok ? "ok" : `FAILED (${r.error})`}`).join(", ");
    lines.push(`Last run (${last_run.cron ? "scheduled" : "by hand"}): ${finished}, ${results || "nothing to do"}`);
  }
  note(lines.join("\n"), "Scheduled backup", out);
  const choice = await ask(
    select({
      ...out,
      message: "Schedule",
      options: [
        {
          value: "default",
          label: `${entry ? "Reinstall" : "Install"}: ${describeSchedule(DEFAULT_SCHEDULE)} (${DEFAULT_SCHEDULE})`,
          hint: "runs this program with this backup.yaml",
        },
        { value: "custom", label: `${entry ? "Reinstall" : "Install"} with another schedule...` },
        ...(entry
          ? [{ value: "remove", label: "Uninstall", hint: "removes only this tool's line from your crontab" }]
          : []),
        { value: "back", label: "Back" },
      ],
    }),
  );
  if (choice === "default") await installAndTell(session, DEFAULT_SCHEDULE);
  if (choice === "remove")
    say.success(
      uninstallEntry() ? "removed the scheduled backup from your crontab" : "no scheduled backup was installed",
    );
  if (choice === "custom") {
    const schedule = await ask(
      text({
        ...out,
        message: "Crontab schedule (minute hour day-of-month month day-of-week)",
        initialValue: entry?.line?.schedule ?? DEFAULT_SCHEDULE,
        validate: (v) => {
          try {
            validateSchedule(v ?? "");
            return undefined;
          } catch (e) {
            return messageOf(e);
          }
        },
      }),
    );
    if (schedule !== undefined) await installAndTell(session, validateSchedule(schedule));
  }
}
