/**
 * The restore limit: the volume's uncompressed tar streamed into it with `docker cp -` through
 * the never-started helper. No decompression, no emptying, no container stopped: only the
 * Docker API writing files.
 */
import fs from "node:fs";
import { rawTar, type ShapeCtx } from "./context.ts";
import { withDockerCpu } from "./docker-cpu.ts";
import { checkContent } from "./measure-restore.ts";
import { runMeasuredOk } from "./peak-memory.ts";
import { ok } from "./proc.ts";
import type { Sample } from "./stats.ts";

/** Untimed: the tar docker itself produces for the volume (top-level folder = volume name). */
export async function prepareRawTar(ctx: ShapeCtx): Promise<void> {
  const fd = fs.openSync(rawTar(ctx), "w");
  try {
    await ok("docker", ["cp", `${ctx.helper}:/v/${ctx.volume}`, "-"], { stdout: fd });
  } finally {
    fs.closeSync(fd);
  }
}

export async function measureDockerCpIn(ctx: ShapeCtx): Promise<Sample> {
  const fd = fs.openSync(rawTar(ctx), "r");
  try {
    const [r, dockerCpuMs] = await withDockerCpu(() =>
      runMeasuredOk("docker", ["cp", "-", `${ctx.helper}:/v`], { stdin: fd }),
    );
    checkContent(ctx);
    return { wallMs: r.wallMs, cpuMs: r.cpuMs, dockerCpuMs };
  } finally {
    fs.closeSync(fd);
  }
}
