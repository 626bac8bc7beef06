import { UsageError } from "../errors.ts";
import { formatLocal } from "../util/format.ts";
import type { Backup } from "./catalog.ts";

/**
 * `--from`: "latest", a local date (YYYY-MM-DD: that day's newest), or an id as `list` shows
 * it (a unique prefix is enough). Backups from other hosts count: that is what a synced folder is for.
 */
export function selectBackup(backups: Backup[], service: string, from: string): Backup {
  const mine = backups.filter((b) => b.service === service);
  if (mine.length === 0) throw new UsageError(`no backups of ${service} found; see \`tools-backup list\``);
  if (from.trim() === "") throw new UsageError(`--from is empty: give latest, a date YYYY-MM-DD or a backup id`);
  if (from === "latest") return mine[0]!;
  if (/^\d{4}-\d{2}-\d{2}$/.test(from)) {
    const day = mine.find((b) => formatLocal(b.createdAt).startsWith(from));
    if (!day) throw new UsageError(`no backup of ${service} on ${from}; see \`tools-backup list ${service}\``);
    return day;
  }
  const exact = mine.find((b) => b.id === from);
  if (exact) return exact;
  const prefixed = mine.filter((b) => b.id.startsWith(from));
  if (prefixed.length === 1) return prefixed[0]!;
  if (prefixed.length > 1) throw new UsageError(`"${from}" matches ${prefixed.length} backups (${prefixed.map((b) => b.id).join(", ")}); give the full id`);
  throw new UsageError(`no backup of ${service} matches "${from}" (use latest, a date YYYY-MM-DD or an id from \`tools-backup list ${service}\`)`);
}
