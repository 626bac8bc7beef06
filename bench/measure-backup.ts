/**
 * `tools-backup backup SERVICE`: wall time and peak memory of the process, the app's downtime
 * from docker events, the archive's size. The first backup is kept as the restore source;
 * later ones are deleted so several repetitions of a 4 GiB volume do not fill the disk.
 */
import fs from "node:fs";
import type { ShapeCtx } from "./context.ts";
import { withDockerCpu } from "./docker-cpu.ts";
import { watchDowntime } from "./downtime.ts";
import { expectSuccess } from "./proc.ts";
import { backupsOnDisk, deleteBackup, runTool } from "./project.ts";
import type { Sample } from "./stats.ts";

export async function measureOursBackup(ctx: ShapeCtx): Promise<Sample> {
  const before = new Set(backupsOnDisk(ctx.project).map((b) => b.id));
  const watch = watchDowntime(ctx.app);
  const [r, dockerCpuMs] = await withDockerCpu(() => runTool(ctx.project, ["backup", ctx.project.service]));
  const downtimeMs = await watch.stop();
  expectSuccess("tools-backup backup", r);
  if (downtimeMs === undefined) throw new Error(`tools-backup backup left ${ctx.app} stopped`);
  const made = backupsOnDisk(ctx.project).filter((b) => !before.has(b.id));
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
  if (ctx.reference === undefined) ctx.reference = backup;
  else deleteBackup(backup);
  return sample;
}
