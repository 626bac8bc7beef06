/**
 * Opening archives BY HAND with plain GNU tar (as docs/restore-safety.md promises a user can), and
 * snapshots of a tree (volume or extracted folder) that can be compared with toEqual.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { tempDir } from "./cli.ts";
import { checksums, hardLinkGroups, listing, symlinks, type Entry } from "./docker.ts";

export type Compression = "zstd" | "gzip";

const flag = (c: Compression) => (c === "zstd" ? "--zstd" : "--gzip");

function tar(args: string[]): string {
  const r = spawnSync("tar", args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tar ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Extracts as root keeping permissions and numeric owners; returns the folder. */
export function extract(archive: string, compression: Compression): string {
  const dir = tempDir("tbtest-extract-");
  tar([flag(compression), "-xpf", archive, "--numeric-owner", "-C", dir]);
  return dir;
}

/** Entry names as tar lists them. */
export function entries(archive: string, compression: Compression): string[] {
  return tar([flag(compression), "-tf", archive]).split("\n").filter(Boolean);
}

/** The distinct first path segments of an archive's entries. */
export function topLevel(archive: string, compression: Compression): string[] {
  return [...new Set(entries(archive, compression).map((e) => e.replace(/^\.\//, "").split("/")[0]!))].sort();
}

export interface Snapshot {
  entries: Omit<Entry, "inode">[];
  md5: Record<string, string>;
  links: Record<string, string>;
  hardLinks: string[][];
}

/** Everything a restore must bring back; directory sizes and link counts are filesystem details. */
export function snapshot(source: string): Snapshot {
  const list = listing(source);
  return {
    entries: list.map(({ inode: _inode, ...e }) => (e.type === "directory" ? { ...e, size: 0, links: 0 } : e)),
    md5: checksums(source),
    links: symlinks(source),
    hardLinks: hardLinkGroups(list),
  };
}

/** What the manifest should count for a volume: regular files once per inode, their bytes. */
export function expectedCounts(source: string): { files: number; bytes: number } {
  const seen = new Map<number, number>();
  for (const e of listing(source)) if (e.type === "regular file") seen.set(e.inode, e.size);
  return { files: seen.size, bytes: [...seen.values()].reduce((a, b) => a + b, 0) };
}

export function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}
