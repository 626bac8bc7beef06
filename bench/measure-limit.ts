/**
 * How fast the data can leave at all. The limit: `docker cp` of the volume from the created,
 * never-started helper, thrown away (what ours does minus tar walking, zstd, sha256 and the
 * file). The floor: the host's own tar over the volume's folder, no Docker API in between.
 */
import fs from "node:fs";
import path from "node:path";
import type { ShapeCtx } from "./context.ts";
import { withDockerCpu } from "./docker-cpu.ts";
import { runMeasuredOk } from "./peak-memory.ts";
import type { Sample } from "./stats.ts";

export async function measureDockerCpOut(ctx: ShapeCtx): Promise<Sample> {
  const devNull = fs.openSync("/dev/null", "w");
  try {
    const [r, dockerCpuMs] = await withDockerCpu(() =>
      runMeasuredOk("docker", ["cp", `${ctx.helper}:/v/${ctx.volume}`, "-"], { stdout: devNull }),
    );
    return { wallMs: r.wallMs, cpuMs: r.cpuMs, dockerCpuMs };
  } finally {
    fs.closeSync(devNull);
  }
}

/**
 * The limit with compression: the same `docker cp` piped into the zstd CLI at our level on every
 * core, written to a file. No stop, no start, no hash, no tar checks: what compressing the data
 * through the Docker API costs at least with standard tools, next to which ours can be judged.
 */
export async function measureDockerCpZstd(ctx: ShapeCtx): Promise<Sample> {
  const file = path.join(ctx.work, "limit.tar.zst");
  const script = 'set -o pipefail; docker cp "$1" - | zstd -1 -T0 -q -f -o "$2"';
  try {
    const [r, dockerCpuMs] = await withDockerCpu(() =>
      runMeasuredOk("bash", ["-c", script, "bash", `${ctx.helper}:/v/${ctx.volume}`, file]),
    );
    return { wallMs: r.wallMs, cpuMs: r.cpuMs, dockerCpuMs, archiveBytes: fs.statSync(file).size };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/**
 * `tar cf - DIR > /dev/null` cannot be used as written: GNU tar notices that its archive is
 * /dev/null and skips reading file contents (a 300 MB folder "archives" in 4 ms). Piping
 * through cat makes it read every byte, which is what a floor must do.
 */
export async function measureHostTar(ctx: ShapeCtx): Promise<Sample> {
  const r = await runMeasuredOk("bash", [
    "-c",
    'set -o pipefail; tar cf - -C "$1" . | cat > /dev/null',
    "bash",
    ctx.mount,
  ]);
  return { wallMs: r.wallMs, cpuMs: r.cpuMs };
}
