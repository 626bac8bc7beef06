/**
 * Offsite copies to an rclone remote: our backup with a copy to `rclone serve webdav` on loopback,
 * against `rclone copyto` of the same archive to the same server (the tool we drive, alone). Ours
 * is timed as for S3 (measure-offsite.ts): from the local manifest's mtime to the binary's own
 * "uploaded" line. Each run's files and local backup are removed after it.
 */
import fs from "node:fs";
import path from "node:path";
import type { ShapeCtx } from "./context.ts";
import { uniqueName } from "./docker.ts";
import { measureBackup } from "./measure-backup.ts";
import { COPY, PREFIX, setup, uploadedAt, withCopy } from "./measure-offsite.ts";
import { runMeasured } from "./peak-memory.ts";
import { expectSuccess, ok } from "./proc.ts";
import { deleteBackup, type Project } from "./project.ts";
import type { Sample } from "./stats.ts";
import { env, type WebdavServer } from "./webdav.ts";

/**
 * The same project with a copy to the WebDAV server, through the rclone.conf that names it, and its
 * backup_dir in memory (tmpfs, under `shm`): rclone then reads the archive at the same cost for ours
 * and for copyto. On disk, the first read of a file just written costs this virtual machine far more
 * system time than a later one (likely its free page reporting: freed memory is handed back to the
 * host and faulted in again), and only ours would read it first.
 */
export function withRcloneRemote(project: Project, dav: WebdavServer, shm: string): Project {
  const backupDir = fs.mkdtempSync(path.join(shm, "tbbench-backups-"));
  const entry = { url: `rclone:${dav.remote}:${PREFIX}`, rclone_config: dav.conf };
  return withCopy(project, "backup-rclone.yaml", entry, backupDir);
}

function davOf(ctx: ShapeCtx) {
  const dav = setup(ctx).dav;
  if (!dav) throw new Error("no WebDAV server for this shape");
  return dav;
}

/** The file's bytes as the server stored them: a benchmark must not time an upload that lost data. */
function expectFile(server: WebdavServer, rel: string, bytes: number): void {
  const file = path.join(server.dir, rel);
  const size = fs.existsSync(file) ? fs.statSync(file).size : -1;
  if (size !== bytes) throw new Error(`${COPY}: ${rel} holds ${size} bytes on the WebDAV server, expected ${bytes}`);
}

/**
 * Empties a folder of the remote through the server: `rclone serve` caches its listing, so files
 * removed behind its back would still be listed (and fail to read) on the next run.
 */
async function purge(server: WebdavServer, rel: string): Promise<void> {
  await ok("rclone", ["purge", `${server.remote}:${rel}`], { env: rcloneEnv(server) });
}

const rcloneEnv = (server: WebdavServer) => ({ ...env(), RCLONE_CONFIG: server.conf });

export async function measureRemoteBackup(ctx: ShapeCtx): Promise<Sample> {
  const dav = davOf(ctx);
  const cpu0 = dav.server.cpuMs();
  const { sample, backup, run } = await measureBackup(ctx, dav.project);
  const serverCpuMs = dav.server.cpuMs() - cpu0;
  const uploadMs = uploadedAt(run.stderr, backup.id) - fs.statSync(backup.manifest).mtimeMs;
  const folder = `${PREFIX}/${dav.project.service}`;
  expectFile(dav.server, `${folder}/${path.basename(backup.file)}`, sample.archiveBytes!);
  expectFile(dav.server, `${folder}/${path.basename(backup.manifest)}`, fs.statSync(backup.manifest).size);
  // Its archive is what rclone copyto then uploads: the same file, in memory too.
  const source = path.join(dav.project.backupDir, "rclone-source.tar.zst");
  fs.renameSync(backup.file, source);
  setup(ctx).source = source;
  deleteBackup(backup);
  await purge(dav.server, PREFIX);
  return { ...sample, uploadMs, serverCpuMs };
}

/** `rclone copyto` of the archive our upload just sent, from the same place, to a fresh name on the same server. */
export async function measureRemoteCopyto(ctx: ShapeCtx): Promise<Sample> {
  const dav = davOf(ctx);
  const source = setup(ctx).source;
  if (!source) throw new Error("rclone has no archive to upload: a backup runs first");
  const rel = `rclone/${uniqueName("copy")}.tar.zst`;
  const cpu0 = dav.server.cpuMs();
  const r = await runMeasured("rclone", ["copyto", source, `${dav.server.remote}:${rel}`], {
    env: rcloneEnv(dav.server),
  });
  const serverCpuMs = dav.server.cpuMs() - cpu0;
  expectSuccess("rclone copyto", r);
  const archiveBytes = fs.statSync(source).size;
  expectFile(dav.server, rel, archiveBytes);
  await purge(dav.server, "rclone");
  return { wallMs: r.wallMs, uploadMs: r.wallMs, archiveBytes, peakKiB: r.peakKiB, cpuMs: r.cpuMs, serverCpuMs };
}
