/**
 * Wall time, peak memory and CPU time of one process. GNU time's %M (max RSS from wait4) is
 * exact, and %U + %S include the children it waited for; where /usr/bin/time is missing (the
 * `time` package is not always installed) the process is polled every 20 ms for memory instead,
 * and CPU is not reported. Which method was used goes into the report.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Done, expectSuccess, type RunOpts, start } from "./proc.ts";

const GNU_TIME = "/usr/bin/time";

export type MemMethod = "gnu-time" | "poll";

/** BENCH_MEM=poll forces the fallback, so it can be checked on a machine that has GNU time. */
export const memMethod: MemMethod = process.env.BENCH_MEM !== "poll" && fs.existsSync(GNU_TIME) ? "gnu-time" : "poll";

export const memMethodText: Record<MemMethod, string> = {
  "gnu-time": "`/usr/bin/time -f %M` (max RSS of the process; docker CLI children it waited for count if larger)",
  poll: "polling /proc/<pid>/status every 20 ms, max of VmHWM/VmRSS (the process only; a peak in the last 20 ms can be missed)",
};

export interface Measured extends Done {
  peakKiB: number | undefined;
  cpuMs?: number;
}

export async function runMeasured(bin: string, args: string[], opts: RunOpts = {}): Promise<Measured> {
  return memMethod === "gnu-time" ? withGnuTime(bin, args, opts) : withPolling(bin, args, opts);
}

/** runMeasured that throws with the command's own stderr when it fails, like proc.ts `ok`. */
export async function runMeasuredOk(bin: string, args: string[], opts: RunOpts = {}): Promise<Measured> {
  const r = await runMeasured(bin, args, opts);
  expectSuccess(`${bin} ${args.join(" ")}`, r);
  return r;
}

async function withGnuTime(bin: string, args: string[], opts: RunOpts): Promise<Measured> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tbbench-time-")), "rss");
  try {
    const r = await start(GNU_TIME, ["-f", "%M %U %S", "-o", out, bin, ...args], opts).done;
    // On a signal, time writes "Command terminated by signal N" first: the numbers are the last line.
    const [kib, user, system] = (fs.readFileSync(out, "utf8").trim().split("\n").pop() ?? "").split(" ").map(Number);
    const cpuMs = (user! + system!) * 1000;
    return {
      ...r,
      peakKiB: Number.isFinite(kib) && kib! > 0 ? kib : undefined,
      cpuMs: Number.isFinite(cpuMs) ? cpuMs : undefined,
    };
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}

function rssOf(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    // VmHWM is the kernel's own high-water mark: a peak between two polls is still seen.
    const grab = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    return Math.max(grab("VmHWM"), grab("VmRSS"));
  } catch {
    return 0;
  }
}

async function withPolling(bin: string, args: string[], opts: RunOpts): Promise<Measured> {
  const { child, done } = start(bin, args, opts);
  let peak = 0;
  const poll = () => {
    if (child.pid !== undefined && child.exitCode === null) peak = Math.max(peak, rssOf(child.pid));
  };
  poll();
  const timer = setInterval(poll, 20);
  try {
    const r = await done;
    return { ...r, peakKiB: peak > 0 ? peak : undefined };
  } finally {
    clearInterval(timer);
  }
}
