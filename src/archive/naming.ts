/**
 * File names in backup_dir: `<service>/<service>_<yyyymmddThhmmssZ>_<host>.tar.zst` plus `<same>.json`,
 * `.tar.zst.age` when encrypted. The id a user types (`--from`) is the name without folder and extension.
 */
export type Compression = "zstd" | "gzip";

export const KINDS = ["manual", "scheduled", "pre-restore"] as const;
export type BackupKind = (typeof KINDS)[number];

/** `manual` and `scheduled` backups; a `pre-restore` one is an undo point, never "the newest backup". */
export function isRegular(kind: BackupKind): boolean {
  return kind !== "pre-restore";
}

export const EXTENSION: Record<Compression, string> = { zstd: ".tar.zst", gzip: ".tar.gz" };
export const MANIFEST_SUFFIX = ".json";
/** An age-encrypted archive's name ends as age's own files do. */
export const ENCRYPTED_SUFFIX = ".age";
/** backup_dir's temporary names are those of every file written in place (util/fs-safe.ts). */
export { TEMP_PREFIX } from "../util/fs-safe.ts";

/** Service names become folder and file names, so only a safe alphabet is allowed. */
export const SERVICE_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const ID = /^([a-z0-9][a-z0-9_.-]{0,62})_(\d{8}T\d{6}Z)_([A-Za-z0-9][A-Za-z0-9.-]{0,252})$/;

export function stampOf(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");
}

export function dateOfStamp(stamp: string): Date | undefined {
  const m = STAMP.exec(stamp);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  // Date.UTC rolls month 13 or 30 February over; such a name is not one we wrote.
  return !Number.isNaN(date.getTime()) && stampOf(date) === stamp ? date : undefined;
}

/** Host names go into file names: keep letters, digits, dots and dashes. */
export function safeHost(host: string): string {
  const cleaned = host.replace(/[^A-Za-z0-9.-]/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  return cleaned.slice(0, 253) || "host";
}

export function backupId(service: string, created: Date, host: string): string {
  return `${service}_${stampOf(created)}_${safeHost(host)}`;
}

export interface ParsedId {
  id: string;
  service: string;
  stamp: string;
  created: Date;
  host: string;
}

export function parseId(id: string): ParsedId | undefined {
  const m = ID.exec(id);
  if (!m) return undefined;
  const created = dateOfStamp(m[2]!);
  if (!created) return undefined;
  return { id, service: m[1]!, stamp: m[2]!, created, host: m[3]! };
}

export function archiveName(id: string, compression: Compression, encrypted = false): string {
  return id + EXTENSION[compression] + (encrypted ? ENCRYPTED_SUFFIX : "");
}

export function manifestName(id: string): string {
  return id + MANIFEST_SUFFIX;
}

/** The id, compression and encryption of an archive file name, or undefined for anything that is not ours. */
export function parseArchiveName(
  file: string,
): { id: ParsedId; compression: Compression; encrypted: boolean } | undefined {
  const encrypted = file.endsWith(ENCRYPTED_SUFFIX);
  const plain = encrypted ? file.slice(0, -ENCRYPTED_SUFFIX.length) : file;
  for (const [compression, ext] of Object.entries(EXTENSION) as [Compression, string][]) {
    if (!plain.endsWith(ext)) continue;
    const id = parseId(plain.slice(0, -ext.length));
    return id ? { id, compression, encrypted } : undefined;
  }
  return undefined;
}
