import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "notify", description: "Check the notification targets of backup.yaml" },
  subCommands: {
    test: () => import("./notify-test.ts").then((m) => m.default),
  },
});
