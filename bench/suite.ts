/**
 * One shape: generate its volume once, then run every method side by side, repetition by
 * repetition (ours, recipe, limit, floor, then again), so load on the shared machine hits all
 * of them alike. Everything made for the shape is removed before the next shape starts.
 */
import { spawnSync } from "node:child_process";
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
import { measureDockerCpOut, measureDockerCpZstd, measureHostTar } from "./measure-limit.ts";
import { measureRecipeBackup } from "./measure-recipe.ts";
import { measureRecipeRestore } from "./measure-recipe-restore.ts";
import { measureOursRestore } from "./measure-restore.ts";
import { measureDockerCpIn, prepareRawTar } from "./measure-restore-limit.ts";
import type { ShapeJob } from "./options.ts";
import { makeProject } from "./project.ts";
import { type MethodResult, type Sample, summarise } from "./stats.ts";

export interface ShapeResult {
  spec: ShapeSpec;
  generated: Generated;
  reps: number;
  backup?: MethodResult[];
  restore?: MethodResult[];
}

interface Method {
  id: string;
  label: string;
  run: (ctx: ShapeCtx) => Promise<Sample>;
}

export const BACKUP_METHODS: Method[] = [
  { id: "ours", label: "tools-backup backup (zstd-1)", run: measureOursBackup },
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
      ].filter(Boolean);
      log(
        ctx.spec.key,
        `${what} ${rep}/${reps} ${m.label}: ${fmtMs(s.wallMs)}${extra.length ? ` (${extra.join(", ")})` : ""}`,
      );
    }
  }
  return methods.map((m) => summarise(m.id, m.label, samples.get(m.id)!));
}

export async function runShape(job: ShapeJob, bin: string, reps: number): Promise<ShapeResult> {
  const { spec } = job;
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
    const ctx: ShapeCtx = {
      spec,
      generated,
      volume: made.volume,
      app: made.app,
      helper: made.helper,
      mount,
      project,
      work,
    };
    const result: ShapeResult = { spec, generated, reps };
    if (job.backup) result.backup = await repeat(ctx, BACKUP_METHODS, reps, "backup");
    if (job.restore) {
      if (!job.backup) {
        log(spec.key, "making the archives to restore (untimed)");
        await measureOursBackup(ctx);
        await measureRecipeBackup(ctx);
      }
      await prepareRawTar(ctx);
      result.restore = await repeat(ctx, RESTORE_METHODS, reps, "restore");
    }
    return result;
  } finally {
    if (made.app) await removeContainer(made.app);
    if (made.helper) await removeContainer(made.helper);
    if (made.volume) await removeVolume(made.volume);
    made.dirs.forEach(removeDir);
  }
}
