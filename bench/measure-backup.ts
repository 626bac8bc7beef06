/**
 * `tools-backup backup SERVICE`: wall time and peak memory of the process, the app's downtime
 * from docker events, the archive's size. The first backup is kept as the restore source;
 * later ones are deleted so several repetitions of a 4 GiB volume do not fill the disk.
 */
import fs from "node:fs";
import type { ShapeCtx } from "./context.ts";
import { withDockerCpu } from "./docker-cpu.ts";
import { watchDowntime } from "./downtime.ts";
import type { Measured } from "./peak-memory.ts";
import { expectSuccess } from "./proc.ts";
import { backupsOnDisk, deleteBackup, type ListedBackup, type Project, runTool } from "./project.ts";
import type { Sample } from "./stats.ts";

export interface MeasuredBackup {
  sample: Sample;
  backup: ListedBackup;
  run: Measured;
}

/** One backup of the shape's service with `project`'s configuration; the caller keeps or deletes it. */
export async function measureBackup(ctx: ShapeCtx, project: Project): Promise<MeasuredBackup> {
  const before = new Set(backupsOnDisk(project).map((b) => b.id));
  const watch = watchDowntime(ctx.app);
  const [r, dockerCpuMs] = await withDockerCpu(() => runTool(project, ["backup", project.service]));
  const downtimeMs = await watch.stop();
  expectSuccess("tools-backup backup", r);
  if (downtimeMs === undefined) throw new Error(`tools-backup backup left ${ctx.app} stopped`);
  const made = backupsOnDisk(project).filter((b) => !before.has(b.id));
  if (made.length !== 1) throw new Error(`expected one new backup, found ${made.length}`);
  const backup = made[0]!;
  const manifest = JSON.parse(fs.readFileSync(backup.manifest, "utf8")) as { downtime_ms: number };
  const sample: Sample = {
    wallMs: r.wallMs,
    downtimeMs,
    archiveBytes: fs.statSync(backup.file).size,
    peakKiB: r.peakKiB,
    cpuMs: r.cpuMs,
    dockerCpuMs,
    selfDowntimeMs: manifest.downtime_ms,
  };
  return { sample, backup, run: r };
}

export async function measureOursBackup(ctx: ShapeCtx): Promise<Sample> {
  const { sample, backup } = await measureBackup(ctx, ctx.project);
  if (ctx.reference === undefined) ctx.reference = backup;
  else deleteBackup(backup);
  return sample;
}
