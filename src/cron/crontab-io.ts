import { spawnSync } from "node:child_process";
import { OperationError } from "../util/errors.ts";

/** The current user's crontab through the `crontab` command; none installed reads as empty. */
export function readCrontab(): string {
  const r = spawnSync("crontab", ["-l"], { encoding: "utf8" });
  if (r.error)
    throw new OperationError(`cannot run crontab (${r.error.message}); install cron (Debian: apt-get install cron)`);
  if (r.status === 0) return r.stdout;
  if (/no crontab for/i.test(r.stderr)) return "";
  throw new OperationError(`crontab -l failed: ${r.stderr.trim()}`);
}

export function writeCrontab(text: string): void {
  awaitNextSecond();
  const r = spawnSync("crontab", ["-"], { input: text, encoding: "utf8" });
  if (r.error) throw new OperationError(`cannot run crontab (${r.error.message})`);
  if (r.status !== 0) throw new OperationError(`crontab rejected the new table: ${r.stderr.trim()}`);
}

/**
 * Cron re-reads a crontab only when its mtime, in whole seconds, differs from the one it last
 * read. A change written in the same second as an earlier one the daemon has already read (a
 * `crontab -e` just before, a script installing twice) is never seen: measured with Debian's
 * cron, such a line did not run at all. Writing in a later second than every change made
 * before we started rules that out; the margin covers the kernel's coarse file-time clock.
 */
function awaitNextSecond(): void {
  const wait = 1000 - (Date.now() % 1000) + 20;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
}
