/**
 * The backup most guides recommend: stop the app, tar+gzip the volume from a throwaway busybox
 * into a bind-mounted host folder, start the app. Timed as one sequence, the way a cron line
 * `docker stop && docker run ... && docker start` runs it.
 */
import fs from "node:fs";
import { recipeArchive, type ShapeCtx } from "./context.ts";
import { IMAGE, oneShotName, removeContainer } from "./docker.ts";
import { watchDowntime } from "./downtime.ts";
import { ok } from "./proc.ts";
import type { Sample } from "./stats.ts";

/**
 * The recipe's shape, shared by backup and restore: stop the app, run busybox tar against the
 * volume and the host folder, start the app again (also after a failed tar: the next measurement
 * expects it up). Returns wall time and the app's downtime.
 */
export async function runRecipe(
  ctx: ShapeCtx,
  label: string,
  tar: string[],
): Promise<Pick<Sample, "wallMs" | "downtimeMs">> {
  const name = oneShotName(label);
  const watch = watchDowntime(ctx.app);
  const t0 = performance.now();
  try {
    await ok("docker", ["stop", ctx.app]);
    await ok("docker", [
      "run",
      "--rm",
      "--pull",
      "never",
      "--name",
      name,
      "-v",
      `${ctx.volume}:/data`,
      "-v",
      `${ctx.work}:/backup`,
      IMAGE,
      "tar",
      ...tar,
    ]);
  } finally {
    await ok("docker", ["start", ctx.app]);
  }
  const wallMs = performance.now() - t0;
  const downtimeMs = await watch.stop();
  await removeContainer(name);
  return { wallMs, downtimeMs };
}

export async function measureRecipeBackup(ctx: ShapeCtx): Promise<Sample> {
  fs.rmSync(recipeArchive(ctx), { force: true });
  const timed = await runRecipe(ctx, "recipe", ["czf", "/backup/x.tar.gz", "-C", "/data", "."]);
  return { ...timed, archiveBytes: fs.statSync(recipeArchive(ctx)).size };
}
