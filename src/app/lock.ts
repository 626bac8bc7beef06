import { createHash } from "node:crypto";
import { open, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Service } from "../config/service-config.ts";
import { selfCommand } from "../system/runtime.ts";
import { OperationError } from "../util/errors.ts";
import { ensurePrivateDir } from "../util/fs-safe.ts";
import { isAlive } from "../util/process.ts";

export interface LockHolder {
  pid: number;
  command: string;
  since: string;
}

interface Lock {
  release(): Promise<void>;
}

interface LockOptions {
  wait: boolean;
  signal?: AbortSignal;
  onWait?: (h: LockHolder) => void;
}

/**
 * One holder of a lock file at a time on this machine. The file is created exclusively; one
 * whose process is gone (killed) is taken over. `busy` words the refusal for the holder.
 */
async function acquireLock(
  file: string,
  me: LockHolder,
  busy: (h: LockHolder) => string,
  opts: LockOptions,
): Promise<Lock> {
  await ensurePrivateDir(dirname(file));
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
    if (!opts.wait) throw new OperationError(`${busy(holder)}; try again later or pass --wait`);
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

/** Most filesystems refuse a longer file name (ENAMETOOLONG). */
const NAME_MAX = 255;

/**
 * A volume's lock file name: the volume's own name when it fits, else a readable prefix and the
 * sha256 of the whole name, so distinct volumes never share a lock. Volume names are ASCII from
 * [A-Za-z0-9_.-] (service.yaml is validated), so a hashed name with its "+" never equals a plain one.
 */
export function volumeLockName(volume: string): string {
  const plain = `${volume}.lock`;
  if (plain.length <= NAME_MAX) return plain;
  const hash = createHash("sha256").update(volume).digest("hex");
  return `${volume.slice(0, NAME_MAX - ".lock".length - hash.length - 1)}+${hash}.lock`;
}

const held = (h: LockHolder) => `pid ${h.pid} (${h.command})`;

/**
 * Runs fn while holding the service's lock (it guards the service's state, like its journal) and
 * one lock per volume it declares, so that another service sharing a volume cannot back it up
 * half-restored, or restore it under a running backup. Volume locks live in their own folder (no
 * clash with a service's name) and are taken in sorted order, so two waiting runs cannot each
 * hold what the other waits for. `wait` queues behind a running holder instead of failing.
 */
export async function withServiceLock<T>(
  stateDir: string,
  service: Pick<Service, "name" | "volumes">,
  opts: LockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const dir = join(stateDir, "locks");
  const volumes = [...new Set(service.volumes.map((v) => v.name))].sort();
  const me: LockHolder = {
    pid: process.pid,
    command: [...selfCommand(), ...process.argv.slice(2)].join(" "),
    since: new Date().toISOString(),
  };
  const locks: Lock[] = [];
  try {
    locks.push(
      await acquireLock(
        join(dir, `${service.name}.lock`),
        me,
        (h) => `${service.name} is busy: ${held(h)} holds its lock since ${h.since}`,
        opts,
      ),
    );
    for (const volume of volumes) {
      const busy = (h: LockHolder) =>
        `${service.name} is busy: its volume ${volume} is in use by ${held(h)} since ${h.since}`;
      locks.push(await acquireLock(join(dir, "volumes", volumeLockName(volume)), me, busy, opts));
    }
    return await fn();
  } finally {
    for (const lock of locks.reverse()) await lock.release();
  }
}
