import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { OperationError } from "../errors.ts";
import { ensurePrivateDir } from "../util/fs-safe.ts";
import { isAlive } from "../util/process.ts";
import { selfCommand } from "../runtime.ts";

export interface LockHolder {
  pid: number;
  command: string;
  since: string;
}

export interface Lock {
  release(): Promise<void>;
}

/**
 * One backup or restore of a service at a time on this machine. The lock file is created
 * exclusively; one whose process is gone (killed) is taken over.
 */
export async function acquireLock(stateDir: string, service: string, opts: { wait: boolean; signal?: AbortSignal; onWait?: (h: LockHolder) => void }): Promise<Lock> {
  const dir = join(stateDir, "locks");
  await ensurePrivateDir(dir);
  const file = join(dir, `${service}.lock`);
  const me: LockHolder = { pid: process.pid, command: [...selfCommand(), ...process.argv.slice(2)].join(" "), since: new Date().toISOString() };
  let told = false;
  for (;;) {
    try {
      const fh = await open(file, "wx", 0o600);
      await fh.writeFile(JSON.stringify(me));
      await fh.close();
      return { release: () => rm(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const holder = await readHolder(file);
    if (!holder || !isAlive(holder.pid)) {
      await rm(file, { force: true });
      continue;
    }
    if (!opts.wait) {
      throw new OperationError(`${service} is busy: pid ${holder.pid} (${holder.command}) holds its lock since ${holder.since}; try again later or pass --wait`);
    }
    if (!told) opts.onWait?.(holder);
    told = true;
    opts.signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as LockHolder;
  } catch {
    // Being written right now, or garbage: a fresh file is given a moment before it counts as stale.
    await new Promise((r) => setTimeout(r, 100));
    try {
      return JSON.parse(await readFile(file, "utf8")) as LockHolder;
    } catch {
      return undefined;
    }
  }
}

/** Runs fn while holding the service's lock; `wait` queues behind a running holder instead of failing. */
export async function withServiceLock<T>(stateDir: string, service: string, opts: { wait: boolean; signal?: AbortSignal; onWait?: (h: LockHolder) => void }, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(stateDir, service, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
