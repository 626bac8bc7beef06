/**
 * `tools-backup restore SERVICE --yes` from the reference backup, with and without the safety
 * backup. After each run (untimed) the volume is checked against what was generated, and the
 * safety backup is deleted so every repetition starts from the same backup_dir.
 */
import fs from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ShapeCtx } from "./context.ts";
import { withDockerCpu } from "./docker-cpu.ts";
import { watchDowntime } from "./downtime.ts";
import { expectSuccess } from "./proc.ts";
import { backupsOnDisk, deleteBackup, runTool } from "./project.ts";
import type { Sample } from "./stats.ts";

export async function measureOursRestore(ctx: ShapeCtx, safety: boolean): Promise<Sample> {
  const ref = ctx.reference;
  if (!ref) throw new Error("no reference backup to restore");
  const before = new Set(backupsOnDisk(ctx.project).map((b) => b.id));
  await readIntoCache(ref.file);
  const watch = watchDowntime(ctx.app);
  const args = ["restore", ctx.project.service, "--yes", "--from", ref.id, ...(safety ? [] : ["--no-safety-backup"])];
  const [r, dockerCpuMs] = await withDockerCpu(() => runTool(ctx.project, args));
  const downtimeMs = await watch.stop();
  expectSuccess(`tools-backup ${args.join(" ")}`, r);
  if (downtimeMs === undefined) throw new Error(`tools-backup restore left ${ctx.app} stopped`);
  const made = backupsOnDisk(ctx.project).filter((b) => !before.has(b.id));
  const expected = safety ? 1 : 0;
  if (made.length !== expected || made.some((b) => b.kind !== "pre-restore")) {
    throw new Error(
      `restore ${safety ? "with" : "without"} safety backup made ${made.length} backups (${made.map((b) => b.kind).join(", ")}), expected ${expected} pre-restore`,
    );
  }
  made.forEach(deleteBackup);
  checkContent(ctx);
  return { wallMs: r.wallMs, downtimeMs, peakKiB: r.peakKiB, cpuMs: r.cpuMs, dockerCpuMs };
}

/**
 * Untimed: tools-backup leaves its archives out of the page cache, and the limit's tar is in it;
 * like every other measurement here, restore then costs CPU and Docker, not the disk.
 */
async function readIntoCache(file: string): Promise<void> {
  await pipeline(
    fs.createReadStream(file, { highWaterMark: 1 << 20 }),
    new Writable({ write: (_c, _e, done) => done() }),
  );
}

/** A fast restore that lost files would be a meaningless number: count files and bytes on the host. */
export function checkContent(ctx: ShapeCtx): void {
  let files = 0;
  let bytes = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        files++;
        bytes += fs.statSync(p).size;
      }
    }
  };
  walk(ctx.mount);
  const g = ctx.generated;
  if (files !== g.files || bytes !== g.bytes) {
    throw new Error(
      `volume ${ctx.volume} holds ${files} files / ${bytes} bytes after restore, expected ${g.files} / ${g.bytes}`,
    );
  }
}
