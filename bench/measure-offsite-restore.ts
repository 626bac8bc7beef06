/**
 * Restore from the offsite copy against its two parts, side by side: (a) the archive downloaded
 * alone (`rclone copyto` from the same server to a file), (b) today's restore, the archive
 * already in backup_dir and in the page cache, (c) a fresh project with the same offsite entry
 * and an empty backup_dir restoring the same backup, which it first fetches. One backup with a
 * copy, made untimed beforehand, is what all three read; each run's files are removed after it.
 */
import fs from "node:fs";
import path from "node:path";
import type { ShapeCtx } from "./context.ts";
import { tempDir } from "./docker.ts";
import { measureBackup } from "./measure-backup.ts";
import { COPY, rcloneEnv } from "./measure-offsite.ts";
import { checkContent, measureOursRestore } from "./measure-restore.ts";
import type { OffsiteRestoreSetup } from "./offsite-setup.ts";
import { runMeasured } from "./peak-memory.ts";
import { expectSuccess } from "./proc.ts";
import { backupsOnDisk, type Project, runTool } from "./project.ts";
import type { Sample } from "./stats.ts";

/** Untimed: one backup with a copy, kept locally and in the bucket, and the fresh project. */
export async function prepareOffsiteRestore(ctx: ShapeCtx): Promise<OffsiteRestoreSetup> {
  const off = ctx.offsite ?? fail("no offsite setup for this shape");
  const { backup } = await measureBackup(ctx, off.project);
  ctx.reference = backup;
  const setup = { backup, fresh: freshProject(off.project) };
  off.restore = setup;
  return setup;
}

function fail(message: string): never {
  throw new Error(message);
}

const restoreSetup = (ctx: ShapeCtx) => ctx.offsite?.restore ?? fail("the offsite restore is not prepared");

function freshProject(p: Project): Project {
  const root = tempDir("fresh");
  fs.cpSync(path.join(p.root, "services"), path.join(root, "services"), { recursive: true });
  const backupDir = path.join(root, "backups");
  const config = path.join(root, "backup.yaml");
  const base = JSON.parse(fs.readFileSync(p.config, "utf8")) as Record<string, unknown>;
  fs.writeFileSync(config, JSON.stringify({ ...base, backup_dir: backupDir }, null, 2) + "\n");
  for (const d of [backupDir, "state", "xdg-config"]) fs.mkdirSync(path.resolve(root, d));
  const env = { ...p.env, XDG_STATE_HOME: path.join(root, "state"), XDG_CONFIG_HOME: path.join(root, "xdg-config") };
  return { ...p, root, config, backupDir, env };
}

/** (a) The archive's object fetched alone to a file, then removed. */
export async function measureDownload(ctx: ShapeCtx): Promise<Sample> {
  const off = ctx.offsite!;
  const { backup } = restoreSetup(ctx);
  const key = `tools/${off.project.service}/${path.basename(backup.file)}`;
  const target = path.join(ctx.work, "download.tar.zst");
  const cpu0 = off.server.cpuMs();
  const r = await runMeasured("rclone", ["copyto", `bench:${off.server.bucket}/${key}`, target], {
    env: rcloneEnv(off.server),
  });
  const serverCpuMs = off.server.cpuMs() - cpu0;
  expectSuccess("rclone copyto (download)", r);
  const archiveBytes = fs.statSync(target).size;
  fs.rmSync(target);
  if (archiveBytes !== backup.bytes)
    throw new Error(`rclone downloaded ${archiveBytes} bytes, expected ${backup.bytes}`);
  return { wallMs: r.wallMs, archiveBytes, peakKiB: r.peakKiB, cpuMs: r.cpuMs, serverCpuMs };
}

/** (b) Today's restore (safety backup included) of the backup in the shape's backup_dir. */
export const measureLocalRestore = (ctx: ShapeCtx): Promise<Sample> => measureOursRestore(ctx, true);

/** (c) The fresh project's restore: fetch, verify, safety backup, restore; its backup_dir emptied after. */
export async function measureCopyRestore(ctx: ShapeCtx): Promise<Sample> {
  const { backup, fresh } = restoreSetup(ctx);
  const folder = path.join(fresh.backupDir, fresh.service);
  if (fs.existsSync(folder)) throw new Error(`${folder} is not empty before the restore from the copy`);
  const cpu0 = ctx.offsite!.server.cpuMs();
  const args = ["restore", fresh.service, "--yes", "--from", backup.id];
  const r = await runTool(fresh, args);
  const serverCpuMs = ctx.offsite!.server.cpuMs() - cpu0;
  expectSuccess(`tools-backup ${args.join(" ")} (empty backup_dir)`, r);
  const fetchMs = fetchedIn(r.stderr, backup.id);
  const left = backupsOnDisk(fresh);
  const safety = left.filter((b) => b.id !== backup.id);
  if (left.length !== 2 || safety.length !== 1 || safety[0]!.kind !== "pre-restore")
    throw new Error(`the restore from the copy left ${left.map((b) => b.id).join(", ")} in backup_dir`);
  checkContent(ctx);
  fs.rmSync(folder, { recursive: true, force: true });
  return { wallMs: r.wallMs, fetchMs, peakKiB: r.peakKiB, cpuMs: r.cpuMs, serverCpuMs };
}

/** The fetch's own duration from "COPY: fetched ID into FOLDER (SIZE, DURATION); sha256 checked". */
function fetchedIn(stderr: string, id: string): number {
  const line = stderr.split("\n").find((l) => l.includes(`${COPY}: fetched ${id} into `));
  const took = line ? /, ([^,()]+)\); sha256 checked/.exec(line)?.[1] : undefined;
  const m = took ? /^(?:(\d+) min )?([\d.]+) (ms|s)$/.exec(took) : null;
  if (!m) throw new Error(`the restore did not report the fetch of ${id}:\n${stderr.trim()}`);
  return Number(m[1] ?? 0) * 60_000 + Number(m[2]) * (m[3] === "ms" ? 1 : 1000);
}
