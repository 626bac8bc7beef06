import { defineCommand } from "citty";
import type { ConfigArgs } from "../app/session.ts";
import { isInteractive } from "../terminal/tty.ts";
import { UsageError } from "../util/errors.ts";
import { configArgs } from "./_shared.ts";

/** The settings screens, given by whoever starts the CLI. */
export type SettingsOpener = (args: ConfigArgs) => Promise<void>;

export const settingsCommand = (openSettings: SettingsOpener) =>
  defineCommand({
    meta: {
      name: "settings",
      description: "Change backup.yaml (folder, retention, services) and the schedule on screen (needs a terminal)",
    },
    args: { ...configArgs },
    async run({ args }) {
      if (!isInteractive()) {
        throw new UsageError(
          "settings is interactive and needs a terminal; " +
            "without one, edit backup.yaml and use `tools-backup cron install`",
        );
      }
      await openSettings(args);
    },
  });
