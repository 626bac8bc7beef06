/**
 * The guides' restore: stop the app, untar the gzip archive of the recipe backup into the
 * volume from a throwaway busybox, start the app. It extracts over what is there (files added
 * since the backup stay), unlike ours, which empties the volume first.
 */

import fs from "node:fs";
import { recipeArchive, type ShapeCtx } from "./context.ts";
import { runRecipe } from "./measure-recipe.ts";
import { checkContent } from "./measure-restore.ts";
import type { Sample } from "./stats.ts";

export async function measureRecipeRestore(ctx: ShapeCtx): Promise<Sample> {
  if (!fs.existsSync(recipeArchive(ctx))) throw new Error("no recipe archive to restore");
  const timed = await runRecipe(ctx, "recipe-restore", ["xzf", "/backup/x.tar.gz", "-C", "/data"]);
  checkContent(ctx);
  return timed;
}
