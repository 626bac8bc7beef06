import { defineCommand } from "citty";
import type { RestoreOptions } from "../app/confirm-restore.ts";
import type { ConfigArgs, Session } from "../app/session.ts";
import { VERSION_LINE } from "../util/version.ts";

/**
 * The command tree; each command file is loaded only when it runs. The screens that restore and
 * settings open are handed to them from here: the commands and the screens never import each other.
 */
export const root = defineCommand({
  meta: {
    name: "tools-backup",
    version: VERSION_LINE,
    description: "Back up and restore the Docker volumes of your self-hosted services",
  },
  subCommands: {
    backup: () => import("../commands/backup.ts").then((m) => m.default),
    list: () => import("../commands/list.ts").then((m) => m.default),
    restore: () => import("../commands/restore.ts").then((m) => m.restoreCommand(openRestoreWizard)),
    verify: () => import("../commands/verify.ts").then((m) => m.default),
    prune: () => import("../commands/prune.ts").then((m) => m.default),
    status: () => import("../commands/status.ts").then((m) => m.default),
    cron: () => import("../commands/cron.ts").then((m) => m.default),
    notify: () => import("../commands/notify.ts").then((m) => m.default),
    key: () => import("../commands/key.ts").then((m) => m.default),
    services: () => import("../commands/services.ts").then((m) => m.default),
    settings: () => import("../commands/settings.ts").then((m) => m.settingsCommand(openSettings)),
  },
});

/** The screens are loaded only when a command opens them: scripted runs never need them. */
async function openRestoreWizard(session: Session, service: string, opts: RestoreOptions): Promise<boolean> {
  const { restoreWizard } = await import("../tui/restore-wizard.ts");
  return restoreWizard(session, service, opts);
}

async function openSettings(args: ConfigArgs): Promise<void> {
  const { openSession } = await import("../tui/session.ts");
  const { settingsScreen } = await import("../tui/settings.ts");
  const session = await openSession(args);
  if (session) await settingsScreen(session);
}
