import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "cron", description: "Install, remove or check the scheduled backup in your crontab" },
  subCommands: {
    install: () => import("./cron-install.ts").then((m) => m.default),
    uninstall: () => import("./cron-uninstall.ts").then((m) => m.default),
    status: () => import("./cron-status.ts").then((m) => m.default),
    relink: () => import("./cron-relink.ts").then((m) => m.default),
  },
});
