import { defineCommand } from "citty";
import { configArgs } from "./_shared.ts";
import { UsageError } from "../errors.ts";
import { isInteractive } from "../terminal/tty.ts";

export default defineCommand({
  meta: { name: "settings", description: "Change backup.yaml (folder, retention, services) and the schedule on screen (needs a terminal)" },
  args: { ...configArgs },
  async run({ args }) {
    if (!isInteractive()) {
      throw new UsageError("settings is interactive and needs a terminal; without one, edit backup.yaml and use `tools-backup cron install`");
    }
    const { openSession } = await import("../tui/session.ts");
    const { settingsScreen } = await import("../tui/settings.ts");
    const loaded = await openSession(args);
    if (loaded) await settingsScreen(loaded);
  },
});
