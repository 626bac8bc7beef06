import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import type { WrittenArchive } from "../archive/writer.ts";
import type { Service } from "../config/service-config.ts";
import { OperationError } from "../util/errors.ts";
import { syncFile } from "../util/fs-safe.ts";
import { stopGroup } from "../util/process.ts";
import type { RunContext } from "./context.ts";

/**
 * Runs a service's own lifecycle script (spec: "a custom script via lifecycle.backup") with the
 * service folder as working directory. Both its outputs go to our stderr, never to stdout (data).
 * It leads its own process group: on interruption, or when it fails, the whole group is stopped
 * before we go on, so nothing it started can still write while the caller rolls back or exits.
 */
export async function runScript(
  ctx: RunContext,
  service: Service,
  script: string,
  env: Record<string, string>,
): Promise<void> {
  ctx.signal.throwIfAborted();
  const child = spawn(script, [], {
    cwd: service.dir,
    env: { ...process.env, SERVICE: service.name, BACKUP_DIR: ctx.config.backupDir, ...env },
    stdio: ["ignore", 2, 2],
    detached: true,
  });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= child.pid === undefined ? Promise.resolve() : stopGroup(child.pid, ctx.stopTimeout));
  ctx.signal.addEventListener("abort", stop, { once: true });
  try {
    const code = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (c, s) => resolve(c ?? (s ? 128 : 1)));
    });
    if (ctx.signal.aborted || code !== 0) await stop();
    ctx.signal.throwIfAborted();
    if (code !== 0) throw new OperationError(`${script} exited with code ${code}`);
  } finally {
    ctx.signal.removeEventListener("abort", stop);
  }
}

/** lifecycle.backup writes BACKUP_FILE (a temporary name) itself; we hash and sync it. */
export async function scriptBackup(ctx: RunContext, service: Service, tmp: string): Promise<WrittenArchive> {
  try {
    await runScript(ctx, service, service.lifecycle.backup!, { BACKUP_FILE: tmp });
    const s = await stat(tmp).catch(() => undefined);
    if (s?.isDirectory())
      throw new OperationError(`${service.lifecycle.backup} wrote a directory, not a file, at BACKUP_FILE`);
    if (!s?.isFile())
      throw new OperationError(`${service.lifecycle.backup} succeeded but wrote no file at BACKUP_FILE`);
    const hash = createHash("sha256");
    await pipeline(createReadStream(tmp), hash);
    await syncFile(tmp);
    return { file: tmp, bytes: s.size, sha256: hash.digest("hex") };
  } catch (e) {
    // recursive: a script may have made a directory there; the name is our own temporary one.
    await rm(tmp, { force: true, recursive: true });
    throw e;
  }
}
