import { OperationError, UsageError } from "../errors.ts";
import { formatLocal } from "../util/format.ts";
import type { Backup } from "./catalog.ts";

/** Why "latest" passes a backup over. */
export const INCOMPLETE = "still incomplete (its archive's size differs from its manifest: a sync still downloading?)";

/**
 * `--from`: "latest", a local date (YYYY-MM-DD: that day's newest), or an id as `list` shows
 * it (a unique prefix is enough). Backups from other hosts count: that is what a synced folder is for.
 * `skipped`: newer backups "latest" or the date passed over because they are incomplete (a sync still downloading).
 */
export function selectBackup(backups: Backup[], service: string, from: string): { backup: Backup; skipped: Backup[] } {
  const mine = backups.filter((b) => b.service === service);
  if (mine.length === 0) throw new UsageError(`no backups of ${service} found; see \`tools-backup list\``);
  if (from.trim() === "") throw new UsageError(`--from is empty: give latest, a date YYYY-MM-DD or a backup id`);
  if (from === "latest") return newestComplete(mine, service);
  if (/^\d{4}-\d{2}-\d{2}$/.test(from)) {
    const day = mine.filter((b) => formatLocal(b.createdAt).startsWith(from));
    if (day.length === 0) throw new UsageError(`no backup of ${service} on ${from}; see \`tools-backup list ${service}\``);
    return newestComplete(day, `${service} on ${from}`);
  }
  const exact = mine.find((b) => b.id === from);
  if (exact) return { backup: exact, skipped: [] };
  const prefixed = mine.filter((b) => b.id.startsWith(from));
  if (prefixed.length === 1) return { backup: prefixed[0]!, skipped: [] };
  if (prefixed.length > 1) throw new UsageError(`"${from}" matches ${prefixed.length} backups (${prefixed.map((b) => b.id).join(", ")}); give the full id`);
  throw new UsageError(`no backup of ${service} matches "${from}" (use latest, a date YYYY-MM-DD or an id from \`tools-backup list ${service}\`)`);
}

/** The first complete one of `candidates` (newest first), and the incomplete ones passed over. */
function newestComplete(candidates: Backup[], what: string): { backup: Backup; skipped: Backup[] } {
  const backup = candidates.find((b) => b.complete);
  if (!backup) throw new OperationError(`no complete backup of ${what}: ${candidates.map((b) => b.id).join(", ")} ${INCOMPLETE}`);
  return { backup, skipped: candidates.slice(0, candidates.indexOf(backup)) };
}
