/**
 * Offsite copies: our backup without and with a copy to a loopback S3 server, and `rclone copyto`
 * of an archive of the same size to the same server. Ours is timed from the local manifest's
 * mtime (the local backup is complete, the containers run again) to the timestamp of the
 * binary's own "uploaded" line (archive and manifest are in the bucket): the upload phase alone,
 * with the listing and orphan check before it, without the backup's noise. Each run's objects and
 * local backups are removed after it, so the next run uploads exactly one backup again.
 */
import fs from "node:fs";
import path from "node:path";
import type { ShapeCtx } from "./context.ts";
import { uniqueName } from "./docker.ts";
import { measureBackup } from "./measure-backup.ts";
import { runMeasured } from "./peak-memory.ts";
import { expectSuccess } from "./proc.ts";
import { deleteBackup, type Project } from "./project.ts";
import type { S3Server } from "./s3.ts";
import type { Sample } from "./stats.ts";

/** The copy's name in backup.yaml and in the binary's messages. */
export const COPY = "bench";
export const PREFIX = "tools";

/** The same project with a second config file, `file`, whose only offsite copy is `entry`. */
export function withCopy(
  project: Project,
  file: string,
  entry: Record<string, unknown>,
  backupDir = project.backupDir,
): Project {
  const base = JSON.parse(fs.readFileSync(project.config, "utf8")) as Record<string, unknown>;
  const config = path.join(project.root, file);
  const offsite = [{ name: COPY, ...entry }];
  fs.writeFileSync(config, JSON.stringify({ ...base, backup_dir: backupDir, offsite }, null, 2) + "\n");
  return { ...project, config, backupDir };
}

/** The same project with a copy to the S3 server (credentials in a 0600 file). */
export function withOffsite(project: Project, server: S3Server): Project {
  const credentials = path.join(project.root, "s3.env");
  fs.writeFileSync(
    credentials,
    `AWS_ACCESS_KEY_ID=${server.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${server.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  const entry = { url: `s3://${server.bucket}/${PREFIX}`, endpoint: server.endpoint, path_style: true, credentials };
  return withCopy(project, "backup-offsite.yaml", entry);
}

export const setup = (ctx: ShapeCtx) => ctx.offsite ?? fail("no offsite setup for this shape");
function fail(message: string): never {
  throw new Error(message);
}

/** The object's bytes as the server stored them: a benchmark must not time an upload that lost data. */
function expectObject(server: S3Server, key: string, bytes: number): void {
  const file = path.join(server.dir, server.bucket, `${key}._S3rver_object`);
  const size = fs.existsSync(file) ? fs.statSync(file).size : -1;
  if (size !== bytes) throw new Error(`s3://${server.bucket}/${key} holds ${size} bytes, expected ${bytes}`);
}

/** When the binary said it had uploaded `id`: its log lines start with an ISO timestamp. */
export function uploadedAt(stderr: string, id: string): number {
  const line = stderr.split("\n").find((l) => l.includes(`: ${COPY}: uploaded ${id} (`));
  const at = line ? Date.parse(line.split(" ")[0]!) : NaN;
  if (Number.isNaN(at)) throw new Error(`the backup did not report an upload of ${id}:\n${stderr.trim()}`);
  return at;
}

/**
 * Backup without a copy; its archive becomes rclone's source, replacing the previous one. It
 * leaves backup_dir (renamed: the page cache state stays), or the next backup with a copy would
 * catch it up and upload two archives.
 */
export async function measureLocalBackup(ctx: ShapeCtx): Promise<Sample> {
  const off = setup(ctx);
  const { sample, backup } = await measureBackup(ctx, ctx.project);
  off.source = path.join(ctx.work, "rclone-source.tar.zst");
  fs.renameSync(backup.file, off.source);
  deleteBackup(backup);
  return sample;
}

export async function measureOffsiteBackup(ctx: ShapeCtx): Promise<Sample> {
  const off = setup(ctx);
  const cpu0 = off.server.cpuMs();
  const { sample, backup, run } = await measureBackup(ctx, off.project);
  const serverCpuMs = off.server.cpuMs() - cpu0;
  const uploadMs = uploadedAt(run.stderr, backup.id) - fs.statSync(backup.manifest).mtimeMs;
  const folder = `${PREFIX}/${off.project.service}`;
  expectObject(off.server, `${folder}/${path.basename(backup.file)}`, sample.archiveBytes!);
  expectObject(off.server, `${folder}/${path.basename(backup.manifest)}`, fs.statSync(backup.manifest).size);
  deleteBackup(backup);
  fs.rmSync(path.join(off.server.dir, off.server.bucket, PREFIX), { recursive: true, force: true });
  return { ...sample, uploadMs, serverCpuMs };
}

/** rclone's s3 backend from environment variables; AWS_CA_BUNDLE makes rclone 1.60 fail, so it goes. */
export function rcloneEnv(server: S3Server): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== "AWS_CA_BUNDLE") env[k] = v;
  return {
    ...env,
    RCLONE_CONFIG_BENCH_TYPE: "s3",
    RCLONE_CONFIG_BENCH_PROVIDER: "Other",
    RCLONE_CONFIG_BENCH_ENDPOINT: server.endpoint,
    RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: "true",
    RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: server.accessKeyId,
    RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: server.secretAccessKey,
  };
}

/** `rclone copyto` of the last archive made without a copy, to a fresh key (it skips an identical object). */
export async function measureRclone(ctx: ShapeCtx): Promise<Sample> {
  const off = setup(ctx);
  const source = off.source ?? fail("rclone has no archive to upload: the backup without a copy runs first");
  const key = `rclone/${uniqueName("copy")}.tar.zst`;
  const cpu0 = off.server.cpuMs();
  const r = await runMeasured("rclone", ["copyto", source, `bench:${off.server.bucket}/${key}`], {
    env: rcloneEnv(off.server),
  });
  const serverCpuMs = off.server.cpuMs() - cpu0;
  expectSuccess("rclone copyto", r);
  const archiveBytes = fs.statSync(source).size;
  expectObject(off.server, key, archiveBytes);
  fs.rmSync(path.join(off.server.dir, off.server.bucket, "rclone"), { recursive: true, force: true });
  return { wallMs: r.wallMs, uploadMs: r.wallMs, archiveBytes, peakKiB: r.peakKiB, cpuMs: r.cpuMs, serverCpuMs };
}
