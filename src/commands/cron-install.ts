import { defineCommand } from "citty";
import { installSchedule } from "../app/schedule.ts";
import { DEFAULT_SCHEDULE, describeSchedule, nextRuns, validateSchedule } from "../cron/schedule.ts";
import { logger } from "../terminal/log.ts";
import { formatLocal } from "../util/format.ts";
import { configArgs, loadConfig } from "./_shared.ts";

export default defineCommand({
  meta: { name: "install", description: "Add (or replace) the scheduled backup in your crontab" },
  args: {
    schedule: {
      type: "string",
      default: DEFAULT_SCHEDULE,
      description: "when to run, as a crontab schedule",
      valueHint: "CRON",
    },
    ...configArgs,
  },
  async run({ args }) {
    const schedule = validateSchedule(args.schedule ?? DEFAULT_SCHEDULE);
    const { replaced, line, noDaemon, keyless } = await installSchedule(loadConfig(args), schedule);
    logger.success(`${replaced ? "replaced" : "installed"} the scheduled backup: ${describeSchedule(schedule)}`);
    logger.info(`next runs: ${nextRuns(schedule, 3).map(formatLocal).join(", ")}`);
    logger.info(`it runs ${line.command.join(" ")}; output goes to ${line.log}`);
    if (noDaemon) logger.warn(noDaemon);
    for (const k of keyless) logger.warn(k);
  },
});
