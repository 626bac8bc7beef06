import { OperationError, UsageError } from "../errors.ts";
import { formatLocal } from "../util/format.ts";
import { isFutureDated } from "../retention/future.ts";
import type { Backup } from "./catalog.ts";

/** Why "latest" passes a backup over. */
export const INCOMPLETE = "still incomplete (its archive's size differs from its manifest: a sync still downloading?)";

/**
 * `--from`: "latest", a local date (YYYY-MM-DD: that day's newest), or an id as `list` shows
 * it (a unique prefix is enough). Backups from other hosts count: that is what a synced folder is for.
 * `skipped`: newer backups "latest" or the date passed over because they are incomplete (a sync still downloading).
 * `future`: backups "latest" passed over because they are dated in the future: a wrong clock
 * makes any old backup look newest, and a restore must not pick one that way.
 */
export function selectBackup(backups: Backup[], service: string, from: string, now = new Date()): Selected {
  const mine = backups.filter((b) => b.service === service);
  if (mine.length === 0) throw new UsageError(`no backups of ${service} found; see \`tools-backup list\``);
  if (from.trim() === "") throw new UsageError(`--from is empty: give latest, a date YYYY-MM-DD or a backup id`);
  if (from === "latest") return latest(mine, service, now);
  if (/^\d{4}-\d{2}-\d{2}$/.test(from)) {
    const day = mine.filter((b) => formatLocal(b.createdAt).startsWith(from));
    if (day.length === 0) throw new UsageError(`no backup of ${service} on ${from}; see \`tools-backup list ${service}\``);
    return { ...newestComplete(day, `${service} on ${from}`), future: [] };
  }
  const exact = mine.find((b) => b.id === from);
  if (exact) return { backup: exact, skipped: [], future: [] };
  const prefixed = mine.filter((b) => b.id.startsWith(from));
  if (prefixed.length === 1) return { backup: prefixed[0]!, skipped: [], future: [] };
  if (prefixed.length > 1) throw new UsageError(`"${from}" matches ${prefixed.length} backups (${prefixed.map((b) => b.id).join(", ")}); give the full id`);
  throw new UsageError(`no backup of ${service} matches "${from}" (use latest, a date YYYY-MM-DD or an id from \`tools-backup list ${service}\`)`);
}

interface Selected {
  backup: Backup;
  skipped: Backup[];
  future: Backup[];
}

function latest(mine: Backup[], service: string, now: Date): Selected {
  const future = mine.filter((b) => isFutureDated(b.createdAt, now));
  const judged = mine.filter((b) => !future.includes(b));
  if (judged.length === 0) throw new OperationError(`every backup of ${service} is dated in the future (a wrong clock?): pick one by its id with --from: ${future.map((b) => b.id).join(", ")}`);
  return { ...newestComplete(judged, service), future };
}

/** The first complete one of `candidates` (newest first), and the incomplete ones passed over. */
function newestComplete(candidates: Backup[], what: string): { backup: Backup; skipped: Backup[] } {
  const backup = candidates.find((b) => b.complete);
  if (!backup) throw new OperationError(`no complete backup of ${what}: ${candidates.map((b) => b.id).join(", ")} ${INCOMPLETE}`);
  return { backup, skipped: candidates.slice(0, candidates.indexOf(backup)) };
}
