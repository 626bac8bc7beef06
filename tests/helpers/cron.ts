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

/** Pids of the running cron daemons (a zombie left by a killed one does not count). */
function cronPids(): number[] {
  const r = spawnSync("pgrep", ["-x", "--runstates", "RSD", "cron"], { encoding: "utf8" });
  return r.stdout.split("\n").filter(Boolean).map(Number);
}

/** Starts Debian's cron daemon unless one runs. */
export function ensureCronDaemon(): void {
  if (cronPids().length > 0) return;
  const r = spawnSync("/usr/sbin/cron", [], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cannot start cron: ${r.stderr}`);
}

/** Stops the cron daemon (SIGTERM to its pid) and waits until it has ended; ensureCronDaemon starts it again. */
export async function stopCronDaemon(): Promise<void> {
  for (const pid of cronPids()) process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100 && cronPids().length > 0; i++) await Bun.sleep(100);
  if (cronPids().length > 0) throw new Error("the cron daemon did not end within 10 s");
}
