/**
 * CPU time on Docker's side of a measurement: dockerd and containerd, with the children they
 * reaped (dockerd's tar process for `docker cp`). Read from /proc before and after, per process
 * alive at both ends. Work inside containers (the recipe's busybox tar) is not seen here.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";

const DAEMONS = new Set(["dockerd", "containerd"]);
export const ticksPerSecond = Number(spawnSync("getconf", ["CLK_TCK"]).stdout?.toString().trim()) || 100;

/** User + system CPU milliseconds of one process so far (a loopback server's side of an upload). */
export function processCpuMs(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of stat; f[0] is field 3.
  return ((Number(f[11]) + Number(f[12])) * 1000) / ticksPerSecond;
}

function daemonTicks(): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name is in parentheses and may hold spaces: the fields follow its last ")".
      const close = stat.lastIndexOf(")");
      if (!DAEMONS.has(stat.slice(stat.indexOf("(") + 1, close))) continue;
      const f = stat.slice(close + 2).split(" ");
      // utime, stime, cutime, cstime are fields 14-17 of stat; f[0] is field 3.
      ticks.set(
        Number(entry),
        [11, 12, 13, 14].reduce((sum, i) => sum + Number(f[i]), 0),
      );
    } catch {
      // gone between readdir and read
    }
  }
  return ticks;
}

/** Runs `fn` and returns its result with the daemons' CPU milliseconds spent meanwhile. */
export async function withDockerCpu<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const before = daemonTicks();
  const result = await fn();
  let ticks = 0;
  for (const [pid, t] of daemonTicks()) if (before.has(pid)) ticks += t - before.get(pid)!;
  return [result, (ticks * 1000) / ticksPerSecond];
}
