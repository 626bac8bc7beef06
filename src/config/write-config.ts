import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../util/fs-safe.ts";
import { type BackupConfig, DEFAULTS, loadBackupConfig } from "./backup-config.ts";
import { type ConfigEdits, editConfigText } from "./edit-config.ts";
import { scalarText } from "./yaml-patch.ts";

/** A new backup.yaml that explains itself, like backup.yaml.example. */
export function newConfigText(
  values: Required<Omit<ConfigEdits, "services" | "retention">> & { services: Record<string, boolean> },
): string {
  const template = [
    "# tools-backup configuration: what YOU want backed up (services/*/service.yaml says what CAN be).",
    "",
    "# Where archives go. ~ and $VARIABLES are expanded; a relative path is relative to this file.",
    "backup_dir: PLACEHOLDER",
    "",
    "# Delete this machine's backups older than this many days (integer >= 1)...",
    `retention_days: ${DEFAULTS.retention_days}`,
    "",
    "# ...but always keep the newest N backups of each service, however old (integer >= 1).",
    `keep_last: ${DEFAULTS.keep_last}`,
    "",
    "# zstd (fast, small) or gzip (for machines whose tar has no zstd).",
    `compression: ${DEFAULTS.compression}`,
    "",
    "# Opt-in per service: absent or false means not backed up by the scheduled run.",
    "services: {}",
    "",
  ].join("\n");
  const on = Object.entries(values.services).filter(([, v]) => v);
  const body =
    on.length > 0
      ? template.replace("services: {}", `services:\n${on.map(([n]) => `  ${scalarText(n)}: true`).join("\n")}`)
      : template;
  return editConfigText(body, { ...values, services: {} });
}

/**
 * Writes backup.yaml atomically (temporary file in the same folder, mode 0600, rename), then
 * loads it like every command will; a file that does not load is replaced by what was there.
 */
export async function saveConfigText(file: string, text: string): Promise<BackupConfig> {
  const before = await readFile(file, "utf8").catch(() => undefined);
  // Only a missing folder is created: chmod on an existing project folder is not ours to do.
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, text);
  try {
    return loadBackupConfig(file);
  } catch (e) {
    if (before !== undefined) await writeFileAtomic(file, before);
    else await rm(file, { force: true });
    throw e;
  }
}
