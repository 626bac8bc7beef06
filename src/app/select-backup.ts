import { isRegular } from "../archive/naming.ts";
import { isFutureDated } from "../util/clock.ts";
import { OperationError, UsageError } from "../util/errors.ts";
import { formatLocal } from "../util/format.ts";
import type { Backup } from "./catalog.ts";

/** Why "latest" passes a backup over. */
export const INCOMPLETE =
  "still incomplete (its archive's size differs from its manifest: a sync still downloading, or an upload cut short?)";

/**
 * `--from`: "latest", a local date (YYYY-MM-DD: that day's newest), or an id as `list` shows
 * it (a unique prefix is enough). Backups from other hosts count: that is what a synced folder is for.
 * "latest" and a date mean regular backups only: a pre-restore backup holds the data a restore
 * replaced, often the broken data, so it is chosen by its id or with --undo.
 * `skipped`: newer backups "latest" or the date passed over because they are incomplete (a sync still downloading).
 * `future`: backups "latest" passed over because they are dated in the future: a wrong clock
 * makes any old backup look newest, and a restore must not pick one that way.
 */
export function selectBackup(backups: Backup[], service: string, from: string, now = new Date()): Selected {
  const mine = backups.filter((b) => b.service === service);
  if (mine.length === 0) throw new UsageError(`no backups of ${service} found; see \`tools-backup list\``);
  if (from.trim() === "") throw new UsageError(`--from is empty: give latest, a date YYYY-MM-DD or a backup id`);
  const regular = mine.filter((b) => isRegular(b.kind));
  if (from === "latest") return latest(onlyRegular(regular, service), service, now);
  if (/^\d{4}-\d{2}-\d{2}$/.test(from)) {
    if (!isDate(from)) throw new UsageError(`--from ${from}: not a date (YYYY-MM-DD)`);
    const day = regular.filter((b) => formatLocal(b.createdAt).startsWith(from));
    if (day.length === 0)
      throw new UsageError(`no backup of ${service} on ${from}; see \`tools-backup list ${service}\``);
    return { ...newestComplete(day, `${service} on ${from}`), future: [] };
  }
  const exact = mine.find((b) => b.id === from);
  if (exact) return { backup: exact, skipped: [], future: [] };
  const prefixed = mine.filter((b) => b.id.startsWith(from));
  if (prefixed.length === 1) return { backup: prefixed[0]!, skipped: [], future: [] };
  if (prefixed.length > 1)
    throw new UsageError(
      `"${from}" matches ${prefixed.length} backups (${prefixed.map((b) => b.id).join(", ")}); give the full id`,
    );
  throw new UsageError(
    `no backup of ${service} matches "${from}" ` +
      `(use latest, a date YYYY-MM-DD or an id from \`tools-backup list ${service}\`)`,
  );
}

/**
 * `--undo`: the safety backup of the last restore of `service` on `host`, which holds the data
 * that restore replaced. Only this host's: another machine's restore replaced another machine's data.
 */
export function selectUndo(backups: Backup[], service: string, host: string): Backup {
  const undo = backups.find((b) => b.service === service && b.kind === "pre-restore" && b.host === host);
  if (!undo) {
    const why = `no restore of ${service} on ${host} left a safety backup (pre-restore)`;
    throw new UsageError(`nothing to undo: ${why}; see \`tools-backup list ${service}\``);
  }
  if (!undo.complete) throw new OperationError(`cannot undo: the safety backup ${undo.id} is ${INCOMPLETE}`);
  return undo;
}

/** What a safety backup undoes: "the restore of ID on DATE" (older manifests do not name the backup restored). */
export function undoneRestore(safety: Backup): string {
  const when = formatLocal(safety.createdAt);
  const restored = safety.manifest.restoring;
  return restored ? `the restore of ${restored} on ${when}` : `the restore on ${when}`;
}

/** A real day: 2026-13-45 has the form but is no date, and must not read as "no backup on it". */
function isDate(day: string): boolean {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

function onlyRegular(regular: Backup[], service: string): Backup[] {
  if (regular.length > 0) return regular;
  const ways = "give one's id with --from, or use --undo";
  throw new UsageError(`${service} has only safety backups (pre-restore), which latest does not pick: ${ways}`);
}

interface Selected {
  backup: Backup;
  skipped: Backup[];
  future: Backup[];
}

function latest(mine: Backup[], service: string, now: Date): Selected {
  const future = mine.filter((b) => isFutureDated(b.createdAt, now));
  const judged = mine.filter((b) => !future.includes(b));
  if (judged.length === 0)
    throw new OperationError(
      `every backup of ${service} is dated in the future (a wrong clock?): ` +
        `pick one by its id with --from: ${future.map((b) => b.id).join(", ")}`,
    );
  return { ...newestComplete(judged, service), future };
}

/** The first complete one of `candidates` (newest first), and the incomplete ones passed over. */
function newestComplete(candidates: Backup[], what: string): { backup: Backup; skipped: Backup[] } {
  const backup = candidates.find((b) => b.complete);
  if (!backup)
    throw new OperationError(`no complete backup of ${what}: ${candidates.map((b) => b.id).join(", ")} ${INCOMPLETE}`);
  return { backup, skipped: candidates.slice(0, candidates.indexOf(backup)) };
}
