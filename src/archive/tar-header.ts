/** Reading ustar/PAX/GNU tar headers: just what counting, concatenating and checking entries need. */
export const BLOCK = 512;

export type EntryType =
  | "file"
  | "hardlink"
  | "symlink"
  | "char"
  | "block"
  | "directory"
  | "fifo"
  | "pax"
  | "pax-global"
  | "gnu-longname"
  | "gnu-longlink"
  | "other";

const TYPES: Record<string, EntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "directory",
  "6": "fifo",
  x: "pax",
  g: "pax-global",
  L: "gnu-longname",
  K: "gnu-longlink",
};

export interface TarHeader {
  name: string;
  linkname: string;
  type: EntryType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

function text(b: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && b[end] !== 0) end++;
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString("utf8");
}

/** Octal, or base-256 (high bit set) for values too large for octal digits. */
function num(b: Uint8Array, start: number, len: number): number {
  if ((b[start]! & 0x80) !== 0) {
    let v = b[start]! & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = text(b, start, len).trim();
  return s ? parseInt(s, 8) : 0;
}

export function isZeroBlock(b: Uint8Array, start: number): boolean {
  for (let i = start; i < start + BLOCK; i++) if (b[i] !== 0) return false;
  return true;
}

/** Header checksum: the unsigned byte sum with the checksum field counted as spaces. */
export function checksumOk(b: Uint8Array, start: number): boolean {
  let sum = 0;
  for (let i = start; i < start + BLOCK; i++) sum += i >= start + 148 && i < start + 156 ? 32 : b[i]!;
  return sum === num(b, start + 148, 8);
}

export function parseHeader(b: Uint8Array, start: number): TarHeader {
  const prefix = text(b, start + 345, 155);
  const name = text(b, start, 100);
  return {
    name: prefix ? `${prefix}/${name}` : name,
    linkname: text(b, start + 157, 100),
    type: TYPES[String.fromCharCode(b[start + 156]!)] ?? "other",
    size: num(b, start + 124, 12),
    mode: num(b, start + 100, 8),
    uid: num(b, start + 108, 8),
    gid: num(b, start + 116, 8),
    mtime: num(b, start + 136, 12),
  };
}

/** PAX records are "<len> <key>=<value>\n"; only path and linkpath matter here. */
export function parsePax(body: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(Buffer.from(body.subarray(i, sp)).toString(), 10);
    if (!(len > 0)) break;
    const record = Buffer.from(body.subarray(sp + 1, i + len - 1)).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}
