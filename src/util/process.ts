import { readdirSync, readFileSync } from "node:fs";

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether any process of group `pgid` still runs. Zombies do not count: they run nothing, and
 * where pid 1 does not reap (a container without an init) they never go away. EPERM: what is
 * left is another user's (sudo), which we can neither stop nor wait for.
 */
function groupRuns(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return true; // no /proc: kill() is all we know
  }
  return pids.some((pid) => {
    try {
      // After the command name, which may hold spaces and parentheses: state ppid pgrp ...
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return Number(pgrp) === pgid && state !== "Z";
    } catch {
      return false; // gone meanwhile
    }
  });
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ESRCH" && code !== "EPERM") throw e;
  }
}

async function groupEnded(pgid: number, withinMs: number): Promise<boolean> {
  const end = Date.now() + withinMs;
  while (groupRuns(pgid)) {
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/**
 * Stops a whole process group: SIGTERM, then SIGKILL after `graceSeconds`. Resolves only once
 * none of its processes runs, so nothing it started can still write when the caller goes on.
 */
export async function stopGroup(pgid: number, graceSeconds: number): Promise<void> {
  signalGroup(pgid, "SIGTERM");
  if (await groupEnded(pgid, graceSeconds * 1000)) return;
  signalGroup(pgid, "SIGKILL");
  // SIGKILL cannot be ignored: only a process stuck in the kernel outlives it, and going on
  // while it may still write would be worse than waiting.
  await groupEnded(pgid, Infinity);
}
