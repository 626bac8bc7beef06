/**
 * The guides' restore: stop the app, untar the gzip archive of the recipe backup into the
 * volume from a throwaway busybox, start the app. It extracts over what is there (files added
 * since the backup stay), unlike ours, which empties the volume first.
 */
import { recipeArchive, type ShapeCtx } from "./context.ts";
import { IMAGE, oneShotName, removeContainer } from "./docker.ts";
import { watchDowntime } from "./downtime.ts";
import { ok } from "./proc.ts";
import { checkContent } from "./measure-restore.ts";
import type { Sample } from "./stats.ts";
import fs from "node:fs";

export async function measureRecipeRestore(ctx: ShapeCtx): Promise<Sample> {
  if (!fs.existsSync(recipeArchive(ctx))) throw new Error("no recipe archive to restore");
  const name = oneShotName("recipe-restore");
  const watch = watchDowntime(ctx.app);
  const t0 = performance.now();
  try {
    await ok("docker", ["stop", ctx.app]);
    await ok("docker", [
      "run", "--rm", "--pull", "never", "--name", name, "-v", `${ctx.volume}:/data`, "-v", `${ctx.work}:/backup`, IMAGE,
      "tar", "xzf", "/backup/x.tar.gz", "-C", "/data",
    ]);
  } finally {
    await ok("docker", ["start", ctx.app]);
  }
  const wallMs = performance.now() - t0;
  const downtimeMs = await watch.stop();
  await removeContainer(name);
  checkContent(ctx);
  return { wallMs, downtimeMs };
}
