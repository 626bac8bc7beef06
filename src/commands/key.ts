import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "key", description: "Make the age key that encrypts the backups" },
  subCommands: {
    generate: () => import("./key-generate.ts").then((m) => m.default),
  },
});
