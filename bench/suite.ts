/**
 * One shape: generate its volume once, then run every method side by side, repetition by
 * repetition (ours, recipe, limit, floor, then again), so load on the shared machine hits all
 * of them alike. Everything made for the shape is removed before the next shape starts.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import type { ShapeCtx } from "./context.ts";
import {
  createHelper,
  createVolume,
  mountpoint,
  removeContainer,
  removeDir,
  removeVolume,
  runApp,
  tempDir,
} from "./docker.ts";
import { fmtBytes, fmtMs } from "./format.ts";
import { type Generated, generate, type ShapeSpec } from "./generate.ts";
import { measureOursBackup } from "./measure-backup.ts";
import { measureEncryptedBackup } from "./measure-encryption.ts";
import { measureDockerCpOut, measureDockerCpZstd, measureHostTar } from "./measure-limit.ts";
import { measureLocalBackup, measureOffsiteBackup, measureRclone, withOffsite } from "./measure-offsite.ts";
import { measureRemoteBackup, measureRemoteCopyto, withRcloneRemote } from "./measure-offsite-rclone.ts";
import {
  measureCopyRestore,
  measureDownload,
  measureLocalRestore,
  prepareOffsiteRestore,
} from "./measure-offsite-restore.ts";
import { measureRecipeBackup } from "./measure-recipe.ts";
import { measureRecipeRestore } from "./measure-recipe-restore.ts";
import { measureOursRestore } from "./measure-restore.ts";
import { measureDockerCpIn, prepareRawTar } from "./measure-restore-limit.ts";
import type { OffsiteJob, ShapeJob } from "./options.ts";
import { makeProject } from "./project.ts";
import { startS3 } from "./s3.ts";
import { type MethodResult, type Sample, summarise } from "./stats.ts";
import { startWebdav } from "./webdav.ts";

export interface ShapeResult {
  spec: ShapeSpec;
  generated: Generated;
  reps: number;
  backup?: MethodResult[];
  restore?: MethodResult[];
}

export interface OffsiteResult {
  spec: ShapeSpec;
  generated: Generated;
  what: OffsiteJob["what"];
  reps: number;
  methods: MethodResult[];
  /** Restore from the copy against download + today's restore; without rclone, no download. */
  restore?: MethodResult[];
  /** Upload to an rclone remote (`rclone serve webdav`) against `rclone copyto`; speed runs with rclone only. */
  rcloneRemote?: MethodResult[];
}

interface Method {
  id: string;
  label: string;
  run: (ctx: ShapeCtx) => Promise<Sample>;
}

export const BACKUP_METHODS: Method[] = [
  { id: "ours", label: "tools-backup backup (zstd-1)", run: measureOursBackup },
  { id: "ours-age", label: "tools-backup backup, encrypted (age, one recipient)", run: measureEncryptedBackup },
  { id: "recipe", label: "recipe: stop; busybox tar czf; start", run: measureRecipeBackup },
  { id: "limit", label: "limit: docker cp to /dev/null", run: measureDockerCpOut },
  {
    id: "limit-zstd",
    label: "limit with compression: docker cp piped to zstd -1 -T0, to a file",
    run: measureDockerCpZstd,
  },
  { id: "floor", label: "floor: host tar cf of the volume folder", run: measureHostTar },
];

export const RESTORE_METHODS: Method[] = [
  { id: "ours", label: "tools-backup restore --yes (safety backup)", run: (c) => measureOursRestore(c, true) },
  {
    id: "ours-no-safety",
    label: "tools-backup restore --yes --no-safety-backup",
    run: (c) => measureOursRestore(c, false),
  },
  { id: "recipe", label: "recipe: stop; busybox tar xzf; start", run: measureRecipeRestore },
  { id: "limit", label: "limit: docker cp - of the uncompressed tar", run: measureDockerCpIn },
];

const LOCAL: Method = { id: "local", label: "tools-backup backup, no offsite copy", run: measureLocalBackup };
const OFFSITE: Method = {
  id: "offsite",
  label: "tools-backup backup with an offsite copy",
  run: measureOffsiteBackup,
};
const RCLONE: Method = { id: "rclone", label: "rclone copyto of the archive", run: measureRclone };
const REMOTE: Method = {
  id: "remote",
  label: "tools-backup backup with a copy to an rclone remote",
  run: measureRemoteBackup,
};
const REMOTE_COPYTO: Method = { id: "remote-rclone", label: "rclone copyto of the archive", run: measureRemoteCopyto };
const DOWNLOAD: Method = { id: "download", label: "(a) rclone copyto of the object to a file", run: measureDownload };
const RESTORE_LOCAL: Method = {
  id: "restore-local",
  label: "(b) tools-backup restore --yes, archive in backup_dir",
  run: measureLocalRestore,
};
const RESTORE_COPY: Method = {
  id: "restore-copy",
  label: "(c) tools-backup restore --yes, empty backup_dir",
  run: measureCopyRestore,
};

const log = (key: string, text: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${key}: ${text}`);

async function repeat(ctx: ShapeCtx, methods: Method[], reps: number, what: string): Promise<MethodResult[]> {
  const samples = new Map<string, Sample[]>(methods.map((m) => [m.id, []]));
  for (let rep = 1; rep <= reps; rep++) {
    for (const m of methods) {
      const s = await m.run(ctx);
      samples.get(m.id)!.push(s);
      const extra = [
        s.downtimeMs !== undefined ? `down ${fmtMs(s.downtimeMs)}` : "",
        s.archiveBytes !== undefined ? fmtBytes(s.archiveBytes) : "",
        s.uploadMs !== undefined ? `upload ${fmtMs(s.uploadMs)}` : "",
        s.fetchMs !== undefined ? `fetch ${fmtMs(s.fetchMs)}` : "",
      ].filter(Boolean);
      log(
        ctx.spec.key,
        `${what} ${rep}/${reps} ${m.label}: ${fmtMs(s.wallMs)}${extra.length ? ` (${extra.join(", ")})` : ""}`,
      );
    }
  }
  return methods.map((m) => summarise(m.id, m.label, samples.get(m.id)!));
}

/** Generates the shape's volume, starts its app and project, runs `fn`, then removes all of it. */
async function withShape<T>(spec: ShapeSpec, bin: string, fn: (ctx: ShapeCtx) => Promise<T>): Promise<T> {
  const made: { app?: string; helper?: string; volume?: string; dirs: string[] } = { dirs: [] };
  try {
    made.volume = await createVolume(spec.key);
    made.helper = await createHelper(made.volume);
    log(spec.key, `generating ${spec.label}`);
    const generated = await generate(spec, made.helper, made.volume);
    const mount = await mountpoint(made.volume);
    // Flush the fresh data now, or its writeback would land inside the first measurements.
    spawnSync("sync", ["-f", mount]);
    log(spec.key, `generated ${generated.files} files, ${fmtBytes(generated.bytes)} in ${fmtMs(generated.ms)}`);
    made.app = await runApp(made.volume);
    const project = makeProject(bin, [{ name: made.volume, container: made.app }]);
    const work = tempDir("work");
    made.dirs.push(project.root, work);
    return await fn({ spec, generated, volume: made.volume, app: made.app, helper: made.helper, mount, project, work });
  } finally {
    if (made.app) await removeContainer(made.app);
    if (made.helper) await removeContainer(made.helper);
    if (made.volume) await removeVolume(made.volume);
    made.dirs.forEach(removeDir);
  }
}

export function runShape(job: ShapeJob, bin: string, reps: number): Promise<ShapeResult> {
  return withShape(job.spec, bin, async (ctx) => {
    const result: ShapeResult = { spec: job.spec, generated: ctx.generated, reps };
    const methods = job.encryptionOnly ? BACKUP_METHODS.filter((m) => m.id.startsWith("ours")) : BACKUP_METHODS;
    if (job.backup) result.backup = await repeat(ctx, methods, reps, "backup");
    if (job.restore) {
      if (!job.backup) {
        log(job.spec.key, "making the archives to restore (untimed)");
        await measureOursBackup(ctx);
        await measureRecipeBackup(ctx);
      }
      await prepareRawTar(ctx);
      result.restore = await repeat(ctx, RESTORE_METHODS, reps, "restore");
    }
    return result;
  });
}

/**
 * Speed: without a copy, with a copy, rclone, repetition by repetition; the backup without a copy
 * runs first, as its archive is rclone's. Memory: one backup without and one with a copy.
 * Then, for both, restore from the copy against download and today's restore, run by run.
 */
export function runOffsite(job: OffsiteJob, bin: string, reps: number, rclone: boolean): Promise<OffsiteResult> {
  return withShape(job.spec, bin, async (ctx) => {
    const server = await startS3();
    try {
      ctx.offsite = { server, project: withOffsite(ctx.project, server) };
      if (job.what === "remote") {
        const rcloneRemote = await overWebdav(ctx, reps);
        return { spec: job.spec, generated: ctx.generated, what: job.what, reps, methods: [], rcloneRemote };
      }
      const speed = job.what === "speed";
      const methods = speed ? [LOCAL, OFFSITE, ...(rclone ? [RCLONE] : [])] : [LOCAL, OFFSITE];
      const n = speed ? reps : 1;
      const results = await repeat(ctx, methods, n, "offsite");
      const rcloneRemote = speed && rclone ? await overWebdav(ctx, n) : undefined;
      log(job.spec.key, "a backup with a copy to restore from (untimed)");
      await prepareOffsiteRestore(ctx);
      const restoreMethods = [...(rclone ? [DOWNLOAD] : []), RESTORE_LOCAL, RESTORE_COPY];
      const restore = await repeat(ctx, restoreMethods, n, "offsite restore");
      return {
        spec: job.spec,
        generated: ctx.generated,
        what: job.what,
        reps: n,
        methods: results,
        restore,
        rcloneRemote,
      };
    } finally {
      await server.stop();
    }
  });
}

/** Ours and `rclone copyto` to one `rclone serve webdav`, run by run, of the archive ours has just sent. */
async function overWebdav(ctx: ShapeCtx, reps: number): Promise<MethodResult[]> {
  const server = await startWebdav();
  const project = withRcloneRemote(ctx.project, server, "/dev/shm");
  try {
    ctx.offsite!.dav = { server, project };
    // A fresh server's first upload is slower than the rest: untimed, or it would weigh on whichever runs first.
    log(ctx.spec.key, "a first upload to the fresh WebDAV server (untimed)");
    await measureLocalBackup(ctx);
    await measureRemoteCopyto(ctx);
    return await repeat(ctx, [REMOTE, REMOTE_COPYTO], reps, "offsite rclone remote");
  } finally {
    await server.stop();
    fs.rmSync(project.backupDir, { recursive: true, force: true });
  }
}
