import { spawnSync } from "node:child_process";
import { OperationError } from "../errors.ts";

/** The current user's crontab through the `crontab` command; none installed reads as empty. */
export function readCrontab(): string {
  const r = spawnSync("crontab", ["-l"], { encoding: "utf8" });
  if (r.error) throw new OperationError(`cannot run crontab (${r.error.message}); install cron (Debian: apt-get install cron)`);
  if (r.status === 0) return r.stdout;
  if (/no crontab for/i.test(r.stderr)) return "";
  throw new OperationError(`crontab -l failed: ${r.stderr.trim()}`);
}

export function writeCrontab(text: string): void {
  const r = spawnSync("crontab", ["-"], { input: text, encoding: "utf8" });
  if (r.error) throw new OperationError(`cannot run crontab (${r.error.message})`);
  if (r.status !== 0) throw new OperationError(`crontab rejected the new table: ${r.stderr.trim()}`);
}
