import os from "node:os";
import path from "node:path";
import { confirm, note, select } from "@clack/prompts";
import type { ConfigArgs, Session } from "../app/session.ts";
import { DEFAULTS } from "../config/backup-config.ts";
import { locateRoot } from "../config/locate.ts";
import { loadServices } from "../config/service-config.ts";
import { newConfigText, saveConfigText } from "../config/write-config.ts";
import { askBackupDir } from "./ask-backup-dir.ts";
import { askWholeNumber } from "./ask-number.ts";
import { chooseServices } from "./choose-services.ts";
import { suggestBackupDir } from "./cloud-folders.ts";
import { encryptionScreen } from "./encryption.ts";
import { ask, out, say } from "./io.ts";
import { offerSchedule } from "./schedule.ts";

function cancelled(): undefined {
  say.info("setup cancelled: backup.yaml was not written");
  return undefined;
}

/**
 * No backup.yaml yet: where it lives, backup_dir, retention, which services (default none),
 * a summary, and only then the file; finally the offer of the nightly schedule.
 */
export async function firstRunSetup(args: ConfigArgs, xdgFile: string): Promise<Session | undefined> {
  const root = locateRoot(args, undefined);
  const services = loadServices(root); // no services/ here: its UsageError says where it looked
  say.info(`First-run setup: no backup.yaml found yet. Services are read from ${path.join(root, "services")}.`);
  const beside = path.join(root, "backup.yaml");
  const file = await ask(
    select({
      ...out,
      message: "Where should backup.yaml live?",
      options: [
        { value: beside, label: beside, hint: "next to services/; recommended" },
        { value: xdgFile, label: xdgFile, hint: "your config folder; found from any folder" },
      ],
    }),
  );
  if (file === undefined) return cancelled();

  const suggestion = suggestBackupDir(os.homedir());
  if (suggestion.cloud) say.info(`${suggestion.cloud} looks cloud-synced: backups there reach your other machines`);
  const backupDir = await askBackupDir({
    message: "Where should the backups go? (backup_dir)",
    initial: suggestion.value,
    baseDir: path.dirname(file),
  });
  if (backupDir === undefined) return cancelled();
  const retention = await askWholeNumber(
    "Delete this machine's backups after how many days? (retention_days)",
    DEFAULTS.retention_days,
    36500,
  );
  if (retention === undefined) return cancelled();

  let enabled: string[] = [];
  if (services.some((s) => s.hasData)) {
    const chosen = await chooseServices(services, {
      message: "Which services should the scheduled backup include? (Space to toggle, Enter to go on)",
      chosen: [],
      noData: "no data declared in service.yaml",
    });
    if (chosen === undefined) return cancelled();
    enabled = chosen;
  } else
    say.warn(
      `no service in ${path.join(root, "services")} declares data (data.volumes), so there is nothing to enable yet`,
    );

  const text = newConfigText({
    ...DEFAULTS,
    backup_dir: backupDir,
    retention_days: retention,
    services: Object.fromEntries(enabled.map((n) => [n, true])),
  });
  const summary = [
    `file:            ${file}`,
    `backup_dir:      ${backupDir}`,
    `retention_days:  ${retention} (and always the newest ${DEFAULTS.keep_last} per service)`,
    `compression:     ${DEFAULTS.compression}`,
    `services:        ${enabled.join(", ") || "none yet"}`,
  ];
  note(summary.join("\n"), "New backup.yaml (with comments explaining each key)", out);
  const write = await ask(confirm({ ...out, message: `Write ${file}?` }));
  if (!write) return cancelled();
  const config = await saveConfigText(file, text);
  say.success(`wrote ${file}`);
  let session: Session = { config, root };
  // The backups may leave the machine (a synced folder): the one moment everyone is asked.
  const encrypt = await ask(
    confirm({ ...out, message: "Encrypt the backups with age? (you keep a copy of the key)", initialValue: false }),
  );
  if (encrypt) session = await encryptionScreen(session);
  if (enabled.length > 0) await offerSchedule(session);
  else say.info("enable services in Settings, then install the schedule there");
  return session;
}
