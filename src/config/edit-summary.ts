/** What the settings screens show before anything is written: the values now, and what changes. */
import { parseDocument } from "yaml";
import type { Compression } from "../archive/naming.ts";
import { DEFAULTS } from "./backup-config.ts";
import type { CalendarKeeps, ConfigEdits } from "./edit-config.ts";

/** A `retention:` mapping in one line ("keep_daily 7, keep_monthly 12"), or "by age" without one. */
export function keepsText(keeps: CalendarKeeps | undefined | null): string {
  if (!keeps) return "by age";
  return Object.entries(keeps)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
}

const sameKeeps = (a: CalendarKeeps | undefined | null, b: CalendarKeeps | undefined | null) =>
  JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The edits that would really change something, so "toggle on, toggle off" counts as nothing. */
export function effectiveEdits(text: string, edits: ConfigEdits): ConfigEdits {
  const cur = currentValues(text);
  const out: ConfigEdits = {};
  if (edits.backup_dir !== undefined && edits.backup_dir !== cur.backup_dir) out.backup_dir = edits.backup_dir;
  if (edits.retention_days !== undefined && edits.retention_days !== cur.retention_days)
    out.retention_days = edits.retention_days;
  if (edits.keep_last !== undefined && edits.keep_last !== cur.keep_last) out.keep_last = edits.keep_last;
  if (edits.compression !== undefined && edits.compression !== cur.compression) out.compression = edits.compression;
  if (edits.retention !== undefined && !sameKeeps(edits.retention, cur.retention)) out.retention = edits.retention;
  // A calendar replaces the two numbers: edits of them would not be written.
  if (edits.retention === undefined ? cur.retention : edits.retention) {
    delete out.retention_days;
    delete out.keep_last;
  }
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
  if (e.retention !== undefined) lines.push(`retention: ${keepsText(cur.retention)} -> ${keepsText(e.retention)}`);
  for (const [n, on] of Object.entries(e.services ?? {}))
    lines.push(`services.${n}: ${on ? "off -> on" : "on -> off"}`);
  return lines;
}

/** The values as written, defaults filled in: what the summary compares against. */
export function currentValues(text: string) {
  const data = (parseDocument(text).toJS() ?? {}) as Record<string, unknown>;
  const services = (typeof data.services === "object" && data.services !== null ? data.services : {}) as Record<
    string,
    unknown
  >;
  return {
    backup_dir: typeof data.backup_dir === "string" ? data.backup_dir : undefined,
    retention_days: (data.retention_days as number | undefined) ?? DEFAULTS.retention_days,
    keep_last: (data.keep_last as number | undefined) ?? DEFAULTS.keep_last,
    compression: (data.compression as Compression | undefined) ?? DEFAULTS.compression,
    retention: isMapping(data.retention) ? (data.retention as CalendarKeeps) : undefined,
    services: Object.fromEntries(Object.entries(services).map(([n, v]) => [n, v === true])),
  };
}

const isMapping = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
