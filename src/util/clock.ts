/**
 * Backups dated ahead of this machine's clock: machines sharing backup_dir disagree on the time,
 * or one clock was wrong when the backup was made. Such a backup's age cannot be judged.
 */

/** Clocks of machines syncing one folder drift a little; only beyond this is a date "in the future". */
export const FUTURE_SKEW_MS = 3_600_000;

export function isFutureDated(created: Date, now: Date): boolean {
  return created.getTime() - now.getTime() > FUTURE_SKEW_MS;
}
