/**
 * The real crontab and cron daemon. Tests run as root on a machine of their own, but a
 * developer's crontab must survive them: it is saved first and put back afterwards.
 */
import { spawnSync } from "node:child_process";

export function crontabText(): string {
  const r = spawnSync("crontab", ["-l"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout : "";
}

export function setCrontab(text: string): void {
  const r = spawnSync("crontab", ["-"], { input: text, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`crontab -: ${r.stderr}`);
}

export function saveCrontab(): () => void {
  const had = spawnSync("crontab", ["-l"], { encoding: "utf8" });
  return () => {
    if (had.status === 0) setCrontab(had.stdout);
    else spawnSync("crontab", ["-r"]);
  };
}

/** Starts Debian's cron daemon unless one runs (a zombie left by a killed one does not count). */
export function ensureCronDaemon(): void {
  if (spawnSync("pgrep", ["-x", "--runstates", "RSD", "cron"]).status === 0) return;
  const r = spawnSync("/usr/sbin/cron", [], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cannot start cron: ${r.stderr}`);
}
