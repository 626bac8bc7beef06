/**
 * Opening archives BY HAND with plain GNU tar (as docs/restore-safety.md promises a user can), and
 * snapshots of a tree (volume or extracted folder) that can be compared with toEqual.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { tempDir } from "./cli.ts";
import { checksums, type Entry, hardLinkGroups, listing, symlinks } from "./docker.ts";

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
  return tar([flag(compression), "-tf", archive])
    .split("\n")
    .filter(Boolean);
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

/** One entry as node-tar reads it, in the terms of `listing` (paths "./…" inside the volume's folder). */
export interface ReadEntry {
  path: string;
  type: string;
  owner: string;
  mode: string;
  mtime: number;
  size: number;
  md5?: string;
  link?: string;
}

const TYPES: Record<string, string> = {
  File: "regular file",
  Link: "hard link",
  Directory: "directory",
  SymbolicLink: "symbolic link",
  FIFO: "fifo",
};

/**
 * The archive read by node-tar, a tar implementation neither GNU tar nor ours, with each file's
 * content hashed; `volume` is the top-level folder whose entries are returned.
 */
export async function readWithNodeTar(archive: string, volume: string): Promise<ReadEntry[]> {
  const { t } = await import("tar");
  const found: ReadEntry[] = [];
  const inVolume = (p: string) => `.${p.slice(volume.length).replace(/\/$/, "")}`;
  await t({
    file: archive,
    onReadEntry: (e) => {
      const md5 = createHash("md5");
      e.on("data", (chunk: Buffer) => md5.update(chunk));
      e.on("end", () => {
        if (e.path !== volume && !e.path.startsWith(`${volume}/`)) return;
        found.push({
          path: inVolume(e.path),
          type: TYPES[e.type] ?? e.type,
          owner: `${e.uid}:${e.gid}`,
          mode: (e.mode ?? 0).toString(8),
          mtime: Math.floor((e.mtime?.getTime() ?? 0) / 1000),
          size: e.size,
          ...(e.type === "File" ? { md5: md5.digest("hex") } : {}),
          ...(e.linkpath ? { link: e.type === "Link" ? inVolume(e.linkpath) : e.linkpath } : {}),
        });
      });
    },
  });
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
