import { defineCommand } from "citty";
import { relinkSchedule } from "../app/schedule.ts";
import { logger } from "../terminal/log.ts";

export default defineCommand({
  meta: {
    name: "relink",
    description:
      "Point the installed scheduled backup at this binary (after an upgrade or a move), keeping its schedule",
  },
  args: { debug: { type: "boolean", description: "show stack traces of unexpected errors" } },
  run() {
    const moved = relinkSchedule();
    if (!moved) return logger.info("no scheduled backup is installed (tools-backup cron install)");
    logger.success(`the scheduled backup now runs ${moved.to.join(" ")} (it ran ${moved.from.join(" ")})`);
  },
});
