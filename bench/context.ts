/**
 * Everything the measurements of one shape share: the same volume, app container, helper and
 * project, so every method reads exactly the same data.
 */
import path from "node:path";
import type { Generated, ShapeSpec } from "./generate.ts";
import type { OffsiteSetup } from "./offsite-setup.ts";
import type { ListedBackup, Project } from "./project.ts";

export interface ShapeCtx {
  spec: ShapeSpec;
  generated: Generated;
  volume: string;
  /** The running `--init` app that each backup and restore stops and starts. */
  app: string;
  /** Created, never started, mounting the volume at /v/<volume>: the limit's docker cp goes through it. */
  helper: string;
  /** The volume's folder on the host, for the host tar floor and content checks. */
  mount: string;
  project: Project;
  /** HOSTDIR of the recipe (mounted at /backup) and home of the uncompressed tar. */
  work: string;
  /** The backup of ours that the restores restore; the first measured backup. */
  reference?: ListedBackup;
  /** The same project with encryption on, once the encrypted backup has run. */
  encrypted?: Project;
  /** Offsite shapes only: the S3 server and the project that copies to it. */
  offsite?: OffsiteSetup;
}

export const recipeArchive = (ctx: ShapeCtx) => path.join(ctx.work, "x.tar.gz");
export const rawTar = (ctx: ShapeCtx) => path.join(ctx.work, "raw.tar");
