import { Readable } from "node:stream";
import { closeSync, lstatSync, openSync, readSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { OperationError } from "../errors.ts";
import type { CapabilityReader } from "../util/xattr.ts";
import { headerBlocks, padding, type PackEntry, type PackType } from "./tar-format.ts";

const BATCH = 1 << 20;
const SLASH = Buffer.from("/");

interface Dir {
  path: Buffer;
  /** The entry name prefix of its children, ending in "/". */
  name: Buffer;
  children: Buffer[];
  next: number;
}

interface OpenFile {
  fd: number;
  left: number;
  size: number;
  path: Buffer;
}

/**
 * The tar stream the Docker engine would send for a folder (`docker cp` of a volume): the folder
 * itself as `top/`, then everything under it depth first in byte order of the names, hard links
 * after the first name of their inode, sockets left out as the engine leaves them out. Files are
 * read straight into 1 MiB batches. A file that shrinks while it is read fails the stream.
 */
export class FolderTar extends Readable {
  private readonly stack: Dir[] = [];
  private readonly seen = new Map<string, Buffer>();
  private file: OpenFile | undefined;
  private batch = Buffer.allocUnsafe(BATCH);
  private fill = 0;
  private started = false;
  private done = false;
  private pushed = false;

  constructor(private readonly root: string, private readonly top: string, private readonly capability: CapabilityReader) {
    super({ highWaterMark: BATCH });
  }

  override _read(): void {
    try {
      this.pushed = false;
      if (!this.started) this.begin();
      while (!this.done && !this.pushed) this.step();
      if (!this.done) return;
      this.flush();
      this.push(null);
    } catch (e) {
      this.destroy(e as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closeFile();
    callback(error);
  }

  private begin(): void {
    this.started = true;
    const path = Buffer.from(this.root);
    const stat = lstatSync(path);
    if (!stat.isDirectory()) throw new OperationError(`${this.root} is not a folder`);
    this.entry(path, Buffer.from(`${this.top}/`), stat);
  }

  private step(): void {
    if (this.file) return this.readFile(this.file);
    const dir = this.stack.at(-1);
    if (!dir) {
      this.put(Buffer.alloc(1024));
      this.done = true;
      return;
    }
    const child = dir.children[dir.next++];
    if (!child) return void this.stack.pop();
    const path = Buffer.concat([dir.path, SLASH, child]);
    let stat: Stats;
    try {
      stat = lstatSync(path);
    } catch (e) {
      // Gone since the folder was listed: the engine skips it too.
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    this.entry(path, Buffer.concat([dir.name, child, stat.isDirectory() ? SLASH : Buffer.alloc(0)]), stat);
  }

  private entry(path: Buffer, name: Buffer, stat: Stats): void {
    const type = typeOf(stat);
    if (!type) return;
    const e: PackEntry = {
      name, type, mode: stat.mode, uid: stat.uid, gid: stat.gid, size: type === "file" ? stat.size : 0,
      mtime: Math.floor(stat.mtimeMs / 1000), capability: this.capability(path),
    };
    if (type === "symlink") e.linkname = readlinkSync(path, { encoding: "buffer" });
    if (type === "char" || type === "block") Object.assign(e, device(stat.rdev));
    if (type !== "directory" && stat.nlink > 1) {
      const key = `${stat.dev}:${stat.ino}`;
      const first = this.seen.get(key);
      if (first) Object.assign(e, { type: "hardlink", linkname: first, size: 0 });
      else this.seen.set(key, name);
    }
    this.put(headerBlocks(e));
    if (e.type === "directory") {
      const children = readdirSync(path, { encoding: "buffer" }).sort(Buffer.compare);
      this.stack.push({ path, name, children, next: 0 });
    } else if (e.type === "file" && e.size > 0) {
      this.file = { fd: openSync(path, "r"), left: e.size, size: e.size, path };
    }
  }

  private readFile(f: OpenFile): void {
    const n = readSync(f.fd, this.batch, this.fill, Math.min(f.left, BATCH - this.fill), null);
    if (n === 0) throw new OperationError(`${f.path.toString()} shrank while it was read (${f.size - f.left} of ${f.size} bytes): is something still writing to the volume?`);
    this.fill += n;
    f.left -= n;
    if (this.fill === BATCH) this.flush();
    if (f.left > 0) return;
    this.closeFile();
    this.put(Buffer.alloc(padding(f.size)));
  }

  private closeFile(): void {
    if (this.file) closeSync(this.file.fd);
    this.file = undefined;
  }

  /** Copies into the batch, pushing full batches on the way. */
  private put(bytes: Buffer): void {
    for (let at = 0; at < bytes.length; ) {
      const n = bytes.copy(this.batch, this.fill, at);
      this.fill += n;
      at += n;
      if (this.fill === BATCH) this.flush();
    }
  }

  private flush(): void {
    if (this.fill === 0) return;
    this.push(this.fill === BATCH ? this.batch : this.batch.subarray(0, this.fill));
    this.batch = Buffer.allocUnsafe(BATCH);
    this.fill = 0;
    this.pushed = true;
  }
}

function typeOf(s: Stats): PackType | undefined {
  if (s.isFile()) return "file";
  if (s.isDirectory()) return "directory";
  if (s.isSymbolicLink()) return "symlink";
  if (s.isCharacterDevice()) return "char";
  if (s.isBlockDevice()) return "block";
  if (s.isFIFO()) return "fifo";
  return undefined;
}

/** Linux's encoding of device numbers, as the engine decodes it. */
function device(rdev: number): { devmajor: number; devminor: number } {
  const high = Math.floor(rdev / 2 ** 32);
  return {
    devmajor: ((rdev & 0xfff00) >>> 8) | (high & 0xfffff000),
    devminor: ((rdev & 0xff) | (Math.floor(rdev / 2 ** 12) & 0xffffff00)) >>> 0,
  };
}
