/**
 * Hand-made tar archives for hostile-input tests: GNU tar sanitises what it writes (it strips a
 * leading "/" or "../" from hard link targets even with -P), so the headers are written here,
 * byte by byte (ustar), exactly as an attacker could. Plus planting such an archive as a backup
 * of a service with a manifest that matches it (sha256, size, per-volume counts).
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { createdAtOf, readJson } from "./project.ts";

export type EntryType = "file" | "hardlink" | "symlink" | "char" | "block" | "dir" | "fifo";

export interface TarEntry {
  name: string;
  type?: EntryType;
  mode?: number;
  content?: string;
  linkname?: string;
  major?: number;
  minor?: number;
}

const FLAG: Record<EntryType, string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};

function octal(buf: Buffer, off: number, len: number, value: number): void {
  buf.write(value.toString(8).padStart(len - 1, "0") + "\0", off, len, "latin1");
}

function header(e: TarEntry, size: number): Buffer {
  const type = e.type ?? "file";
  const h = Buffer.alloc(512);
  h.write(e.name, 0, 100, "utf8");
  octal(h, 100, 8, e.mode ?? (type === "dir" ? 0o755 : 0o644));
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, 1_700_000_000);
  h.write(FLAG[type], 156, 1, "latin1");
  h.write(e.linkname ?? "", 157, 100, "utf8");
  h.write("ustar\0" + "00", 257, 8, "latin1");
  h.write("root", 265, 32, "latin1");
  h.write("root", 297, 32, "latin1");
  octal(h, 329, 8, e.major ?? 0);
  octal(h, 337, 8, e.minor ?? 0);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "latin1");
  return h;
}

/** An uncompressed tar of these entries, ended by two zero blocks. */
export function tarOf(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.type === undefined || e.type === "file" ? (e.content ?? "") : "");
    parts.push(header(e, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

/** Regular files and their bytes per top-level folder: what a manifest's volumes say. */
export function countsOf(entries: TarEntry[]): Map<string, { files: number; bytes: number }> {
  const m = new Map<string, { files: number; bytes: number }>();
  for (const e of entries) {
    if ((e.type ?? "file") !== "file") continue;
    const v = e.name.split("/")[0]!;
    const c = m.get(v) ?? { files: 0, bytes: 0 };
    c.files++;
    c.bytes += Buffer.byteLength(e.content ?? "");
    m.set(v, c);
  }
  return m;
}

/**
 * Writes `archive` (a zstd-compressed tar) as a backup of `service` in `folder`, its manifest
 * copied from `template` (a real manifest of that service) and made to match: id, file, sha256,
 * size, and the given per-volume fields. Returns the id.
 */
export function plantBackup(
  folder: string,
  service: string,
  template: string,
  stamp: string,
  archive: Buffer,
  volumes: Record<string, object>,
): string {
  const id = `${service}_${stamp}_crafted`;
  const file = `${id}.tar.zst`;
  fs.writeFileSync(path.join(folder, file), archive, { mode: 0o600 });
  const m = readJson(template);
  m.id = id;
  m.host = "crafted";
  m.created_at = createdAtOf(id);
  m.archive = { ...m.archive, file, bytes: archive.length, sha256: createHash("sha256").update(archive).digest("hex") };
  m.volumes = m.volumes.map((v: { name: string }) => ({ ...v, ...(volumes[v.name] ?? {}) }));
  fs.writeFileSync(path.join(folder, `${id}.json`), JSON.stringify(m, null, 2), { mode: 0o600 });
  return id;
}

export const zstd = (tar: Buffer): Buffer => zlib.zstdCompressSync(tar);
