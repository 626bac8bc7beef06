import fs from "node:fs";
import { dirname, join, posix } from "node:path";
import type { TarHeader } from "../archive/tar-header.ts";
import { messageOf, OperationError, systemErrorText } from "../util/errors.ts";
import { DIR_MODE } from "../util/fs-safe.ts";

const AS_ROOT = process.getuid?.() === 0;
/** Ownership and setuid/setgid bits only for root, as tar does; anyone else keeps the permission bits. */
const MODE_BITS = AS_ROOT ? 0o7777 : 0o777;
const CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/**
 * Writes selected entries below `target`, synchronously (the tar walker calls it mid-chunk).
 * Every name is created fresh (O_EXCL, mkdir), never through a symlink, so nothing outside
 * `target` is reached; the archive's own checks have already refused "..", absolute names and
 * entries under a symlink. Folders get their mode and times last, once their content is in.
 */
export class EntryWriter {
  files = 0;
  bytes = 0;
  /** Whether an entry was selected and `target` made for it. */
  matched = false;
  readonly skipped: string[] = [];
  readonly dirs: { host: string; entry: TarHeader }[] = [];
  failure: Error | undefined;
  private readonly made = new Set<string>();
  /** Archive names of the regular files written, so a hard link can point to one of them. */
  private readonly written = new Map<string, string>();
  private fd: number | undefined;
  private file: { entry: TarHeader; left: number } | undefined;

  constructor(
    private readonly path: string,
    private readonly target: string,
    private readonly toDir: string,
  ) {
    this.made.add(dirname(target));
  }

  entry(entry: TarHeader): void {
    this.guard(() => {
      const name = entry.name.replace(/\/+$/, "");
      const host = this.hostPath(name);
      if (entry.type !== "directory") this.parents(host);
      if (entry.type === "directory") this.dir(host, entry);
      else if (entry.type === "file") this.open(host, entry);
      else if (entry.type === "symlink") this.symlink(host, entry);
      else if (entry.type === "hardlink") this.hardlink(host, name, entry);
      else this.skipped.push(name);
      if (entry.type === "file") this.written.set(name, host);
      this.matched = true;
    });
  }

  data(data: Buffer): void {
    if (this.fd === undefined) return;
    this.guard(() => {
      for (let at = 0; at < data.length; ) at += fs.writeSync(this.fd!, data, at);
      this.bytes += data.length;
      this.file!.left -= data.length;
      if (this.file!.left === 0) this.finishFile();
    });
  }

  /** Folders deepest first: setting a folder's times after its children keeps them. */
  finishDirs(): void {
    for (const { host, entry } of [...this.dirs].reverse()) {
      if (AS_ROOT) fs.lchownSync(host, entry.uid, entry.gid);
      fs.chmodSync(host, entry.mode & MODE_BITS);
      fs.utimesSync(host, entry.mtime, entry.mtime);
    }
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  /** The first failure ends the extraction: it is kept, and rethrown to stop the archive's reading. */
  private guard(step: () => void): void {
    try {
      step();
    } catch (e) {
      const { code, path } = e as NodeJS.ErrnoException;
      const where = path ?? `into ${this.toDir}`;
      this.failure ??= new OperationError(code ? `could not write ${where}: ${systemErrorText(e)}` : messageOf(e));
      throw this.failure;
    }
  }

  /** `vol/sub/x` with `vol/sub` selected lands at `target/x`; `path`'s own name is `target`'s. */
  private hostPath(name: string): string {
    return join(this.target, name.slice(this.path.length));
  }

  /** Folders an entry needs that the archive did not list first; an existing one must be one we made. */
  private parents(host: string): void {
    const missing: string[] = [];
    for (let d = dirname(host); !this.made.has(d); d = dirname(d)) missing.unshift(d);
    for (const d of missing) {
      fs.mkdirSync(d, DIR_MODE);
      this.made.add(d);
    }
  }

  private dir(host: string, entry: TarHeader): void {
    this.parents(host);
    if (!this.made.has(host)) fs.mkdirSync(host, DIR_MODE);
    this.made.add(host);
    this.dirs.push({ host, entry });
  }

  private open(host: string, entry: TarHeader): void {
    this.fd = fs.openSync(host, CREATE, 0o600);
    this.file = { entry, left: entry.size };
    this.files++;
    if (entry.size === 0) this.finishFile();
  }

  private finishFile(): void {
    const { entry } = this.file!;
    if (AS_ROOT) fs.fchownSync(this.fd!, entry.uid, entry.gid);
    fs.fchmodSync(this.fd!, entry.mode & MODE_BITS);
    fs.futimesSync(this.fd!, entry.mtime, entry.mtime);
    this.close();
  }

  private symlink(host: string, entry: TarHeader): void {
    fs.symlinkSync(entry.linkname, host);
    if (AS_ROOT) fs.lchownSync(host, entry.uid, entry.gid);
    fs.lutimesSync(host, entry.mtime, entry.mtime);
  }

  /** Only to a file written here: a link to one outside the selection has no data of ours to point to. */
  private hardlink(host: string, name: string, entry: TarHeader): void {
    const to = this.written.get(posix.normalize(entry.linkname).replace(/\/+$/, ""));
    if (to === undefined) {
      const hint = "take out a folder holding both";
      throw new Error(`"${name}" is a hard link to "${entry.linkname}", which lies outside ${this.path}: ${hint}`);
    }
    fs.linkSync(to, host);
  }
}
