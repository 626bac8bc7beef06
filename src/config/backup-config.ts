import os from "node:os";
import path from "node:path";
import process from "node:process";
import * as v from "valibot";
import { type Compression, SERVICE_NAME } from "../archive/naming.ts";
import type { RetentionPolicy } from "../retention/plan.ts";
import { type EncryptionConfig, encryptionConfig, encryptionSchema } from "./encryption-config.ts";
import { expandPath } from "./expand-path.ts";
import { type NotifyTarget, notifyList, notifyTargets } from "./notify-config.ts";
import { type OffsiteCopy, offsiteCopies, offsiteList } from "./offsite-config.ts";
import { retentionPolicy, retentionSchema } from "./retention-config.ts";
import { configErrorAt, configErrorFromIssues, mappingCheck, mismatch, strictMapping } from "./schema-errors.ts";
import { type Position, parseYamlFile, parseYamlText, positionOf, type YamlSource } from "./yaml-source.ts";

export interface BackupConfig {
  file: string; // absolute path of backup.yaml
  backupDir: string; // absolute, expanded
  retentionDays: number;
  keepLast: number;
  /** retention_days and keep_last, or the `retention:` calendar that replaces them. */
  retention: RetentionPolicy;
  compression: Compression;
  /** Where every backup is also copied, in the order written (restore tries them in this order). */
  offsite: OffsiteCopy[];
  /** Absent: archives are written as they are. */
  encryption?: EncryptionConfig;
  /** Where each run's outcome is told. */
  notify: NotifyTarget[];
  /** A node_exporter textfile written after each run. */
  metricsFile?: string;
  services: Record<string, boolean>; // null prototype: a service called "constructor" must not hit Object's
  /** Where each entry of `services:` is written, for errors about the service it names. */
  serviceAt: Record<string, Position>;
}

/** What an absent key means. */
export const DEFAULTS = { retention_days: 7, keep_last: 3, compression: "zstd" as Compression };

const FOLDER = "a folder path";
// Reject blank paths here: path.resolve("") would quietly mean "next to backup.yaml".
const folderPath = v.pipe(
  v.string(FOLDER),
  v.check((s) => s.trim() !== "" && !s.includes("\0"), FOLDER),
);

function wholeNumber(max: number) {
  const expected = `a whole number from 1 to ${max}`;
  return v.pipe(v.number(expected), v.integer(expected), v.minValue(1, expected), v.maxValue(max, expected));
}

const SERVICES = "a mapping of service names to true or false";

const schema = strictMapping({
  backup_dir: folderPath,
  retention_days: v.optional(wholeNumber(36500), DEFAULTS.retention_days),
  keep_last: v.optional(wholeNumber(10000), DEFAULTS.keep_last),
  compression: v.optional(v.picklist(["zstd", "gzip"], '"zstd" or "gzip"'), DEFAULTS.compression),
  // Entries are checked by hand below: valibot's record() silently drops keys like "constructor".
  services: v.nullish(mappingCheck(SERVICES)),
  offsite: offsiteList,
  retention: retentionSchema,
  encryption: encryptionSchema,
  notify: notifyList,
  metrics_file: v.optional(folderPath),
});

export function loadBackupConfig(
  file: string,
  env: Record<string, string | undefined> = process.env,
  home: string = os.homedir(),
): BackupConfig {
  return configOf(parseYamlFile(file), env, home);
}

/** The configuration `text` would be as `file`'s content: how a screen checks an edit before writing it. */
export function loadBackupConfigText(
  file: string,
  text: string,
  env: Record<string, string | undefined> = process.env,
  home: string = os.homedir(),
): BackupConfig {
  return configOf(parseYamlText(path.resolve(file), text), env, home);
}

function configOf(src: YamlSource, env: Record<string, string | undefined>, home: string): BackupConfig {
  const parsed = v.safeParse(schema, src.data);
  if (!parsed.success) throw configErrorFromIssues(src, parsed.issues);
  const raw = parsed.output;

  const services: Record<string, boolean> = Object.create(null);
  const serviceAt: Record<string, Position> = Object.create(null);
  for (const [name, enabled] of Object.entries(raw.services ?? {})) {
    serviceAt[name] = positionOf(src, ["services", name], "key");
    if (!SERVICE_NAME.test(name)) {
      const text = `invalid service name ${JSON.stringify(name)} (lowercase letters, digits, "_", "." and "-")`;
      throw configErrorAt(src, ["services", name], text, { at: "key" });
    }
    if (typeof enabled !== "boolean") throw mismatch(src, ["services", name], "true or false", enabled);
    services[name] = enabled;
  }

  const pathAt = (key: string, value: string) => {
    try {
      return expandPath(value, env, home, path.dirname(src.file));
    } catch (error) {
      throw configErrorAt(src, [key], error instanceof Error ? error.message : String(error));
    }
  };
  const backupDir = pathAt("backup_dir", raw.backup_dir);
  const written = ["retention_days", "keep_last"].filter((k) => (src.data as Record<string, unknown>)[k] !== undefined);
  const ages = { retentionDays: raw.retention_days, keepLast: raw.keep_last };
  const policy = retentionPolicy(src, ["retention"], raw.retention, ages, written);
  return {
    file: src.file,
    backupDir,
    retentionDays: raw.retention_days,
    keepLast: raw.keep_last,
    retention: policy,
    compression: raw.compression,
    offsite: offsiteCopies(src, raw.offsite ?? [], policy, env, home),
    encryption: encryptionConfig(src, raw.encryption, env, home),
    notify: notifyTargets(src, raw.notify ?? [], env, home),
    metricsFile: raw.metrics_file === undefined ? undefined : pathAt("metrics_file", raw.metrics_file),
    services,
    serviceAt,
  };
}
