/**
 * Backups dated ahead of this machine's clock: machines sharing backup_dir disagree on the time,
 * or one clock was wrong when the backup was made. Such a backup's age cannot be judged.
 */
import { isFutureDated } from "../util/clock.ts";

/**
 * Of one service's complete backups (newest first): the newest whose age can be judged, and
 * those dated in the future, which never count as the newest.
 */
export function newestNotFuture<T extends { createdAt: Date }>(
  complete: T[],
  now: Date,
): { newest: T | undefined; future: T[] } {
  const future = complete.filter((b) => isFutureDated(b.createdAt, now));
  return { newest: complete.find((b) => !future.includes(b)), future };
}

/** The warning naming a service's backups dated in the future, and what a command makes of them. */
export function futureDatedWarning(service: string, ids: string[], consequence: string): string {
  const one = ids.length === 1;
  return (
    `${service}: ${ids.join(", ")} ${one ? "is" : "are"} dated in the future ` +
    `(a wrong clock here or on the machine that made ${one ? "it" : "them"}): ${consequence}`
  );
}
