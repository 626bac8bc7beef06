import { defineCommand } from "citty";
import { uninstallEntry } from "../cron/entry.ts";
import { logger } from "../terminal/log.ts";

export default defineCommand({
  meta: { name: "uninstall", description: "Remove the scheduled backup from your crontab (nothing else is touched)" },
  args: { debug: { type: "boolean", description: "show stack traces of unexpected errors" } },
  run() {
    logger.success(
      uninstallEntry()
        ? "removed the scheduled backup from your crontab"
        : "no scheduled backup was installed; crontab unchanged",
    );
  },
});
