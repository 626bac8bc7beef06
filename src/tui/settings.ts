import { readFile } from "node:fs/promises";
import path from "node:path";
import { confirm, note, select } from "@clack/prompts";
import type { Session } from "../app/session.ts";
import { type ConfigEdits, editConfigText } from "../config/edit-config.ts";
import { encryptionEntry } from "../config/edit-encryption.ts";
import { currentValues, describeEdits, effectiveEdits, keepsText } from "../config/edit-summary.ts";
import { loadServices, type Service } from "../config/service-config.ts";
import { saveConfigText } from "../config/write-config.ts";
import { count } from "../util/format.ts";
import { askBackupDir } from "./ask-backup-dir.ts";
import { askWholeNumber } from "./ask-number.ts";
import { backupScreen } from "./backup-screen.ts";
import { chooseServices } from "./choose-services.ts";
import { encryptionKind, encryptionLine, encryptionScreen } from "./encryption.ts";
import { ask, out, say } from "./io.ts";
import { offsiteLine, offsiteScreen } from "./offsite.ts";
import { askRetention, retentionText } from "./retention-choice.ts";
import { scheduleLine, scheduleScreen } from "./schedule.ts";

type Action =
  | "backup_dir"
  | "retention_days"
  | "keep_last"
  | "compression"
  | "services"
  | "offsite"
  | "encryption"
  | "backup"
  | "schedule"
  | "save"
  | "back";

/** The values as they would be saved: the file's, with the pending edits on top. */
function shown(text: string, edits: ConfigEdits) {
  const cur = currentValues(text);
  return { ...cur, ...edits, services: { ...cur.services, ...edits.services } };
}

/** The spec's settings box: what is configured, what is pending, and the schedule. */
function overview(session: Session, services: Service[], text: string, edits: ConfigEdits): string {
  const v = shown(text, edits);
  return [
    `Backup directory:  ${v.backup_dir}  (${session.config.backupDir})`,
    `Retention:         ${retentionText(v)}`,
    `Compression:       ${v.compression}`,
    "Services:",
    ...services.map((s) => {
      const mark = !s.hasData ? "-" : v.services[s.name] ? "x" : " ";
      return `  [${mark}] ${s.name}${s.hasData ? "" : "   (no data to back up)"}`;
    }),
    `Offsite:           ${offsiteLine(session.config.offsite)}`,
    `Encryption:        ${encryptionLine(encryptionEntry(text))}`,
    `Schedule:          ${scheduleLine(session)}`,
  ].join("\n");
}

/** The services' choice as backup.yaml's map: every service with data, on or off. */
async function pickEnabled(
  services: Service[],
  on: Record<string, boolean>,
): Promise<Record<string, boolean> | undefined> {
  const selectable = services.filter((s) => s.hasData);
  const chosen = await chooseServices(services, {
    message: "Services in the scheduled backup (Space to toggle, Enter to keep)",
    chosen: selectable.filter((s) => on[s.name]).map((s) => s.name),
    noData: "no data: service.yaml declares no data.volumes",
  });
  return chosen && Object.fromEntries(selectable.map((s) => [s.name, chosen.includes(s.name)]));
}

/**
 * Settings: edits collect in memory and are written to backup.yaml only after their summary is
 * confirmed; the edit keeps the user's comments and order, and the file is written atomically
 * and session again. Backing up and the schedule act at once and use the saved file.
 */
export async function settingsScreen(session: Session): Promise<Session> {
  let current = session;
  const file = session.config.file;
  let text = await readFile(file, "utf8");
  let edits: ConfigEdits = {};
  let last: Action = "backup_dir";
  const services = loadServices(current.root);
  note(overview(current, services, text, edits), `Backup settings: ${file}`, out);
  for (;;) {
    const v = shown(text, edits);
    const pending = describeEdits(text, edits);
    const mark = (changed: boolean) => (changed ? "changed, not saved yet" : undefined);
    const e = new Set(Object.keys(effectiveEdits(text, edits)));
    const on = services.filter((s) => s.hasData && v.services[s.name]).map((s) => s.name);
    const retentionShort = v.retention ? `by calendar: ${keepsText(v.retention)}` : `${v.retention_days} days`;
    const choice: Action | undefined = await ask(
      select<Action>({
        ...out,
        message: pending.length > 0 ? `Settings (${pending.length} unsaved)` : "Settings",
        initialValue: last,
        options: [
          { value: "backup_dir", label: `Backup folder:   ${v.backup_dir}`, hint: mark(e.has("backup_dir")) },
          {
            value: "retention_days",
            label: `Retention:       ${retentionShort}`,
            hint: mark(e.has("retention_days") || e.has("retention")),
          },
          {
            value: "keep_last",
            label: `Keep at least:   ${v.retention ? "(by calendar)" : `${v.keep_last} backups per service`}`,
            hint: mark(e.has("keep_last")),
          },
          { value: "compression", label: `Compression:     ${v.compression}`, hint: mark(e.has("compression")) },
          {
            value: "services",
            label: `Services:        ${on.join(", ") || "none enabled"}`,
            hint: mark(e.has("services")),
          },
          {
            value: "offsite",
            label: `Offsite copies:  ${current.config.offsite.map((c) => c.name).join(", ") || "none"}`,
            hint: "tested before saved, saved at once",
          },
          {
            value: "encryption",
            label: `Encryption:      ${encryptionKind(encryptionEntry(text))}`,
            hint: "saved at once",
          },
          { value: "backup", label: "Back up a service now", hint: "uses the saved settings" },
          { value: "schedule", label: `Schedule:        ${scheduleLine(current)}` },
          ...(pending.length > 0
            ? [{ value: "save" as const, label: `Save ${count(pending.length, "change")} to backup.yaml` }]
            : []),
          { value: "back", label: pending.length > 0 ? "Back, discarding the changes" : "Back" },
        ],
      }),
    );
    if (choice === undefined || choice === "back") {
      if (pending.length > 0) say.info(`${count(pending.length, "unsaved change")} discarded; ${file} is unchanged`);
      return current;
    }
    last = choice;
    if (choice === "backup_dir") {
      const value = await askBackupDir({
        message: "Backup folder (backup_dir)",
        initial: v.backup_dir ?? "",
        baseDir: path.dirname(file),
      });
      if (value !== undefined) edits.backup_dir = value;
    } else if (choice === "retention_days" || (choice === "keep_last" && v.retention)) {
      await askRetention(edits, v);
    } else if (choice === "keep_last") {
      const n = await askWholeNumber(
        "Always keep how many newest backups per service? (keep_last)",
        v.keep_last,
        10000,
      );
      if (n !== undefined) edits.keep_last = n;
    } else if (choice === "compression") {
      const c = await ask(
        select({
          ...out,
          message: "Compression",
          initialValue: v.compression,
          options: [
            { value: "zstd" as const, hint: "fast and small" },
            { value: "gzip" as const, hint: "for machines whose tar has no zstd" },
          ],
        }),
      );
      if (c !== undefined) edits.compression = c;
    } else if (choice === "services") {
      const chosen = await pickEnabled(services, v.services);
      if (chosen) edits.services = { ...edits.services, ...chosen };
    } else if (choice === "offsite") {
      current = await offsiteScreen(current);
      // A copy added or removed there is written at once; pending edits stay pending on top of it.
      text = await readFile(file, "utf8");
    } else if (choice === "encryption") {
      current = await encryptionScreen(current);
      text = await readFile(file, "utf8");
    } else if (choice === "backup") await backupScreen(current);
    else if (choice === "schedule") await scheduleScreen(current);
    else if (choice === "save") {
      note(pending.join("\n"), `Changes to ${file}`, out);
      if (await ask(confirm({ ...out, message: "Write these changes?" }))) {
        // Edits are values, not text: if the file was changed meanwhile, they go onto that version.
        const fresh = await readFile(file, "utf8");
        if (fresh !== text)
          say.warn(`${file} changed on disk since this screen read it; the edits are applied to its new content`);
        const next = editConfigText(fresh, edits);
        current = { config: await saveConfigText(file, next), root: current.root };
        text = next;
        edits = {};
        last = "back";
        say.success(`saved ${file}`);
      }
    }
  }
}
