/**
 * Writing tar headers the way the Docker engine writes them for `docker cp` (Go's archive/tar
 * in its PAX format): ustar headers, the long path split into prefix and name where it fits,
 * a PAX extended header only for what ustar cannot hold. An archive read from a volume's
 * folder then restores exactly like one the engine streamed.
 */
import { BLOCK } from "./tar-header.ts";

export type PackType = "file" | "hardlink" | "symlink" | "char" | "block" | "directory" | "fifo";

export interface PackEntry {
  /** Raw bytes: file names on Linux need not be UTF-8. Directories end in "/". */
  name: Buffer;
  type: PackType;
  /** st_mode with its file-type bits, as Docker writes it. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Whole seconds: Docker truncates the rest. */
  mtime: number;
  linkname?: Buffer;
  devmajor?: number;
  devminor?: number;
  /** The one extended attribute Docker keeps. */
  capability?: Buffer;
}

const FLAG: Record<PackType, string> = { file: "0", hardlink: "1", symlink: "2", char: "3", block: "4", directory: "5", fifo: "6" };

/** The header blocks of an entry: a PAX extended header first when ustar cannot hold it. */
export function headerBlocks(e: PackEntry): Buffer {
  const pax: [string, Buffer][] = [];
  const link = e.linkname ?? Buffer.alloc(0);
  if (link.length > 100 || !isAscii(link)) pax.push(["linkpath", link]);
  for (const [key, value, digits] of [["gid", e.gid, 7], ["mtime", e.mtime, 11], ["size", e.size, 11], ["uid", e.uid, 7]] as const) {
    if (!fitsOctal(value, digits)) pax.push([key, Buffer.from(String(value))]);
  }
  if (e.capability) pax.push(["SCHILY.xattr.security.capability", e.capability]);
  // Like Go: a name ustar could split still goes into PAX once anything else needs PAX.
  const split = pax.length === 0 ? fitName(e.name) : undefined;
  if (!split && (e.name.length > 100 || !isAscii(e.name))) pax.push(["path", e.name]);
  pax.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const main = ustarBlock(e, split ?? { prefix: Buffer.alloc(0), name: e.name });
  if (pax.length === 0) return main;
  const body = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  const paxHeader = Buffer.alloc(BLOCK);
  field(paxHeader, 0, 100, Buffer.from(paxName(e.name), "latin1"));
  for (const [at, len, value] of [[100, 8, 0], [108, 8, 0], [116, 8, 0], [124, 12, body.length], [136, 12, 0]] as const) octal(paxHeader, at, len, value);
  paxHeader.write("x", 156, "latin1");
  finish(paxHeader);
  return Buffer.concat([paxHeader, body, Buffer.alloc(padding(body.length)), main]);
}

export const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

function ustarBlock(e: PackEntry, at: { prefix: Buffer; name: Buffer }): Buffer {
  const b = Buffer.alloc(BLOCK);
  field(b, 0, 100, ascii(at.name));
  octal(b, 100, 8, e.mode);
  octal(b, 108, 8, e.uid);
  octal(b, 116, 8, e.gid);
  octal(b, 124, 12, e.type === "file" ? e.size : 0);
  octal(b, 136, 12, e.mtime);
  b.write(FLAG[e.type], 156, "latin1");
  field(b, 157, 100, ascii(e.linkname ?? Buffer.alloc(0)));
  // Owners go by number; of names only "root" is written, the one that means the same on
  // every system (and the one the engine writes for volumes).
  if (e.uid === 0) b.write("root", 265, "latin1");
  if (e.gid === 0) b.write("root", 297, "latin1");
  octal(b, 329, 8, e.devmajor ?? 0);
  octal(b, 337, 8, e.devminor ?? 0);
  field(b, 345, 155, at.prefix);
  finish(b);
  return b;
}

/** Magic, version and checksum: the checksum counts its own field as spaces, ends in NUL and space. */
function finish(b: Buffer): void {
  b.write("ustar\u000000", 257, "latin1");
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, "latin1");
}

/** The name as ustar holds it (whole, or split at a "/" into prefix and name), or undefined. */
function fitName(name: Buffer): { prefix: Buffer; name: Buffer } | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return { prefix: Buffer.alloc(0), name };
  let length = Math.min(name.length, 156);
  if (length === name.length && name[length - 1] === 0x2f) length--;
  const i = name.subarray(0, length).lastIndexOf(0x2f);
  if (i <= 0 || name.length - i - 1 > 100 || name.length - i - 1 === 0 || i > 155) return undefined;
  return { prefix: name.subarray(0, i), name: name.subarray(i + 1) };
}

/** The extended header's own name, as Go writes it: dir/PaxHeaders.0/base, ASCII only, cut at 100. */
function paxName(name: Buffer): string {
  const slash = name.lastIndexOf(0x2f) + 1;
  const file = name.subarray(slash);
  const joined = Buffer.concat([name.subarray(0, slash), Buffer.from("PaxHeaders.0"), file.length > 0 ? Buffer.from("/") : file, file]);
  return ascii(joined).toString("latin1").slice(0, 100).replace(/\/+$/, "");
}

function paxRecord(key: string, value: Buffer): Buffer {
  const rest = key.length + value.length + 3;
  let size = rest + String(rest).length;
  if (String(size).length + rest !== size) size = rest + String(size).length;
  return Buffer.concat([Buffer.from(`${size} ${key}=`, "latin1"), value, Buffer.from("\n")]);
}

const isAscii = (b: Buffer): boolean => b.every((c) => c < 0x80);
const ascii = (b: Buffer): Buffer => (isAscii(b) ? b : Buffer.from(b.filter((c) => c < 0x80)));
const fitsOctal = (value: number, digits: number): boolean => value >= 0 && value < 8 ** digits;

/** A string field: cut at its length (without a trailing "/" where cut, as Go does), NUL-terminated when shorter. */
function field(b: Buffer, at: number, len: number, value: Buffer): void {
  value.copy(b, at, 0, Math.min(len, value.length));
  if (value.length <= len || b[at + len - 1] !== 0x2f) return;
  let end = len;
  while (end > 0 && b[at + end - 1] === 0x2f) end--;
  b[at + end] = 0;
}

/** Zero-padded octal digits and a NUL; a value too large is written as 0 (PAX holds it). */
function octal(b: Buffer, at: number, len: number, value: number): void {
  const v = fitsOctal(value, len - 1) ? value : 0;
  b.write(`${v.toString(8).padStart(len - 1, "0")}\u0000`, at, "latin1");
}
