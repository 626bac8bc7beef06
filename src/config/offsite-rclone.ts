import path from "node:path";
import { keyFile } from "./key-file.ts";
import type { CopyEntry, RcloneCopy } from "./offsite-copy.ts";
import { configErrorAt } from "./schema-errors.ts";
import type { YamlSource } from "./yaml-source.ts";

/** `rclone:REMOTE:PATH`: a remote's name as rclone.conf has it (no colon), then any path on it. */
const RCLONE_URL = /^rclone:([A-Za-z0-9_.+@ -]*[A-Za-z0-9_.+@-]):(.*)$/;

export const RCLONE_ONLY = "rclone_config is for rclone:REMOTE:PATH copies";

/** Keys that say how to reach S3, meaningless for an rclone copy (rclone.conf says that). */
const S3_KEYS = ["endpoint", "region", "path_style", "credentials", "profile"] as const;

export const isRcloneUrl = (url: string) => url.startsWith("rclone:");

export const rcloneUrlProblem = (url: string) =>
  RCLONE_URL.test(url) ? undefined : `expected rclone:REMOTE:PATH (a remote of your rclone.conf), found "${url}"`;

/** An rclone copy's entry: its address, its rclone.conf (private, as a key file), no S3 keys. */
export function rcloneCopy(
  src: YamlSource,
  index: number,
  e: CopyEntry,
  base: Omit<RcloneCopy, "kind" | "remote" | "rcloneConfig">,
  env: Record<string, string | undefined>,
  home: string,
): RcloneCopy {
  const at = (key: string) => ["offsite", index, key];
  const bad = rcloneUrlProblem(e.url);
  if (bad) throw configErrorAt(src, at("url"), bad);
  for (const key of S3_KEYS) {
    if (e[key] !== undefined && !(key === "path_style" && e[key] === false))
      throw configErrorAt(src, at(key), `${key} is for s3:// copies; an rclone remote is set up in rclone.conf`, {
        at: "key",
      });
  }
  let rcloneConfig: string | undefined;
  try {
    rcloneConfig = e.rclone_config && keyFile(e.rclone_config, env, home, path.dirname(src.file));
  } catch (error) {
    throw configErrorAt(src, at("rclone_config"), error instanceof Error ? error.message : String(error));
  }
  return { ...base, kind: "rclone", remote: e.url.slice("rclone:".length), rcloneConfig };
}
