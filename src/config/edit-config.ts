import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { isAlias, isMap, isScalar, parseDocument, type Alias } from "yaml";
import { UsageError } from "../util/errors.ts";
import type { Compression } from "../archive/naming.ts";
import { writeFileAtomic } from "../util/fs-safe.ts";
import { loadBackupConfig, type BackupConfig } from "./backup-config.ts";
import { aliasesOf, emptyValuePlace, insertPair, pairLine, replaceAnchored, replaceRange, scalarText, type Patch, type Value } from "./yaml-patch.ts";

/** What the settings screens may change in backup.yaml; absent means "leave as it is". */
export interface ConfigEdits {
  backup_dir?: string;
  retention_days?: number;
  keep_last?: number;
  compression?: Compression;
  services?: Record<string, boolean>;
}

export const DEFAULTS = { retention_days: 7, keep_last: 3, compression: "zstd" as Compression };


/**
 * Applies edits to backup.yaml's text. The yaml Document is edited (doc.setIn) and is the
 * truth; but String(doc) normalises spacing before comments and the like, so when every edit is
 * a scalar (or an alias) replaced in place or a key added to a mapping (or to an empty
 * `services:`), the same edits are spliced into the original text instead, and kept only if the
 * result parses to exactly the same data. Every byte the user did not ask to change then stays.
 * An edited value other keys refer to (`&anchor`) is not changed under them: they get copies of
 * the old value. A mapping that is itself an alias or aliased is refused, not edited for two keys.
 */
export function editConfigText(text: string, edits: ConfigEdits): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`cannot edit: ${doc.errors[0]!.message}`);
  const patches: Patch[] = [];
  let structural = false;
  // Mappings made from an empty `services:`, and where their lines go.
  const fromEmpty = new Map<unknown, { at: number; indent: string }>();
  const set = (keys: string[], value: Value) => {
    const parentKeys = keys.slice(0, -1);
    const key = keys[keys.length - 1]!;
    const parent = parentKeys.length > 0 ? doc.getIn(parentKeys, true) : doc.contents;
    if (isAlias(parent) || (isMap(parent) && parent.anchor && aliasesOf(doc, parent.anchor).length > 0)) {
      throw new UsageError(`cannot edit ${keys.join(".")}: ${parentKeys.join(".")} is shared with another key through a YAML alias (*); edit ${keys.join(".")} by hand`);
    }
    const existing = isMap(parent) ? parent.get(key, true) : undefined;
    const old = isAlias(existing) ? existing.resolve(doc) : existing;
    if (isScalar(old) && old.value === value) return;
    if (parentKeys.length > 0 && !isMap(parent)) {
      // `services:` left empty (or not a mapping at all): it becomes a mapping.
      const map = doc.createNode({ [key]: value });
      const place = emptyValuePlace(text, doc.contents, parentKeys, parent);
      if (place) fromEmpty.set(map, place);
      doc.setIn(parentKeys, map);
      if (place) patches.push(pairLine(place, key, value));
      else structural = true;
      return;
    }
    const empty = fromEmpty.get(parent);
    if (empty) {
      doc.setIn(keys, value);
      patches.push(pairLine(empty, key, value));
      return;
    }
    if (!isMap(doc.contents)) {
      doc.contents = doc.createNode({ [key]: value }) as unknown as typeof doc.contents;
      structural = true;
      return;
    }
    // The patch is worked out on the nodes as they were read, before the Document changes.
    const patch = isScalar(existing)
      ? replaceAnchored(text, doc, existing, value, patches)
      : isAlias(existing)
        ? replaceRange((existing as Alias).range, scalarText(value))
        : existing === undefined && isMap(parent) ? insertPair(text, parent, key, value) : undefined;
    doc.setIn(keys, value);
    if (patch) patches.push(patch);
    else structural = true;
  };
  for (const [name, on] of Object.entries(edits.services ?? {})) {
    // Off and absent mean the same: never add a `false` line the user did not have.
    const cur = doc.getIn(["services", name], true);
    if (!on && !isScalar(cur) && !isAlias(cur)) continue;
    set(["services", name], on);
  }
  // After services: a key added at the end of the file goes after services' own new lines.
  for (const k of ["backup_dir", "retention_days", "keep_last", "compression"] as const) {
    const v = edits[k];
    if (v !== undefined) set([k], v);
  }
  const rendered = String(doc);
  if (structural || patches.length === 0) return patches.length === 0 && !structural ? text : rendered;
  // Reversed first: of the insertions at one place, the first added is applied last, so it ends up first.
  const spliced = patches.reverse().sort((a, b) => b.start - a.start).reduce((t, p) => t.slice(0, p.start) + p.text + t.slice(p.end), text);
  const check = parseDocument(spliced);
  return check.errors.length === 0 && isDeepStrictEqual(check.toJS(), doc.toJS()) ? spliced : rendered;
}

/** The edits that would really change something, so "toggle on, toggle off" counts as nothing. */
export function effectiveEdits(text: string, edits: ConfigEdits): ConfigEdits {
  const cur = currentValues(text);
  const out: ConfigEdits = {};
  if (edits.backup_dir !== undefined && edits.backup_dir !== cur.backup_dir) out.backup_dir = edits.backup_dir;
  if (edits.retention_days !== undefined && edits.retention_days !== cur.retention_days) out.retention_days = edits.retention_days;
  if (edits.keep_last !== undefined && edits.keep_last !== cur.keep_last) out.keep_last = edits.keep_last;
  if (edits.compression !== undefined && edits.compression !== cur.compression) out.compression = edits.compression;
  const services = Object.entries(edits.services ?? {}).filter(([n, on]) => (cur.services[n] === true) !== on);
  if (services.length > 0) out.services = Object.fromEntries(services);
  return out;
}

/** One line per change, for the summary shown before anything is written. */
export function describeEdits(text: string, edits: ConfigEdits): string[] {
  const cur = currentValues(text);
  const e = effectiveEdits(text, edits);
  const lines: string[] = [];
  if (e.backup_dir !== undefined) lines.push(`backup_dir: ${cur.backup_dir ?? "(none)"} -> ${e.backup_dir}`);
  if (e.retention_days !== undefined) lines.push(`retention_days: ${cur.retention_days} -> ${e.retention_days}`);
  if (e.keep_last !== undefined) lines.push(`keep_last: ${cur.keep_last} -> ${e.keep_last}`);
  if (e.compression !== undefined) lines.push(`compression: ${cur.compression} -> ${e.compression}`);
  for (const [n, on] of Object.entries(e.services ?? {})) lines.push(`services.${n}: ${on ? "off -> on" : "on -> off"}`);
  return lines;
}

/** The values as written, defaults filled in: what the summary compares against. */
export function currentValues(text: string) {
  const data = (parseDocument(text).toJS() ?? {}) as Record<string, unknown>;
  const services = (typeof data.services === "object" && data.services !== null ? data.services : {}) as Record<string, unknown>;
  return {
    backup_dir: typeof data.backup_dir === "string" ? data.backup_dir : undefined,
    retention_days: (data.retention_days as number | undefined) ?? DEFAULTS.retention_days,
    keep_last: (data.keep_last as number | undefined) ?? DEFAULTS.keep_last,
    compression: (data.compression as Compression | undefined) ?? DEFAULTS.compression,
    services: Object.fromEntries(Object.entries(services).map(([n, v]) => [n, v === true])),
  };
}

/** A new backup.yaml that explains itself, like backup.yaml.example. */
export function newConfigText(values: Required<Omit<ConfigEdits, "services">> & { services: Record<string, boolean> }): string {
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
  const body = on.length > 0 ? template.replace("services: {}", `services:\n${on.map(([n]) => `  ${scalarText(n)}: true`).join("\n")}`) : template;
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
