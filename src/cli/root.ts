import { defineCommand } from "citty";
import { VERSION } from "../util/version.ts";

/** The command tree; each command file is loaded only when it runs. */
export const root = defineCommand({
  meta: { name: "tools-backup", version: VERSION, description: "Back up and restore the Docker volumes of your self-hosted services" },
  subCommands: {
    backup: () => import("../commands/backup.ts").then((m) => m.default),
    list: () => import("../commands/list.ts").then((m) => m.default),
    restore: () => import("../commands/restore.ts").then((m) => m.default),
    verify: () => import("../commands/verify.ts").then((m) => m.default),
    prune: () => import("../commands/prune.ts").then((m) => m.default),
    status: () => import("../commands/status.ts").then((m) => m.default),
    cron: () => import("../commands/cron.ts").then((m) => m.default),
    services: () => import("../commands/services.ts").then((m) => m.default),
    settings: () => import("../commands/settings.ts").then((m) => m.default),
  },
});
