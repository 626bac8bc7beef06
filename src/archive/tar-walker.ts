import { Transform, type TransformCallback } from "node:stream";
import { markDisposable } from "../util/release.ts";
import { linkStaysInside } from "./entry-rules.ts";
import { BLOCK, checksumOk, isZeroBlock, parseHeader, parsePax, type TarHeader } from "./tar-header.ts";

export interface WalkStats {
  entries: number;
  files: number;
  bytes: number;
  /** Device nodes and setuid/setgid files: recorded so a restore can refuse ones the data never had. */
  devices: number;
  setuid: number;
  /** Symlinks whose target lies outside their volume (absolute, or climbing out with ".."). */
  linksOut: number;
  ended: boolean;
}

export interface WalkerOptions {
  /** Drop the end-of-archive blocks, so that several tar streams can be concatenated. */
  stripEnd?: boolean;
  /** Called for every real entry with PAX / GNU long names applied; throw to reject. */
  onEntry?: (entry: TarHeader) => void;
  /** Its input chunks are fresh reads that nothing else holds: marked disposable (release.ts). */
  freshInput?: boolean;
  /** The content of the entry last given to onEntry, in pieces, padding left out; valid only during the call. */
  onData?: (data: Buffer) => void;
}

/**
 * Passes a tar stream through untouched while reading its headers: counts files and bytes,
 * checks header checksums, finds the end marker. Data blocks are never copied; what it keeps
 * (a split header, PAX records) it copies, so a later stage may release the chunks (release.ts).
 */
export class TarWalker extends Transform {
  readonly stats: WalkStats = { entries: 0, files: 0, bytes: 0, devices: 0, setuid: 0, linksOut: 0, ended: false };
  private remaining = 0;
  /** Bytes of the current entry's content still to come, not counting the padding after it. */
  private content = 0;
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private meta: Buffer[] | undefined;
  private metaType: TarHeader["type"] | undefined;
  private pending: Record<string, string> = {};

  constructor(private readonly options: WalkerOptions = {}) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.walk(chunk);
      done();
    } catch (e) {
      done(e as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (!this.stats.ended && !this.options.stripEnd)
      return done(new Error("tar stream ended before its end-of-archive marker (truncated)"));
    if (!this.stats.ended && (this.remaining > 0 || this.headerFill > 0))
      return done(new Error("tar stream ended in the middle of an entry (truncated)"));
    done();
  }

  private walk(chunk: Buffer): void {
    if (this.options.freshInput) markDisposable(chunk);
    if (this.stats.ended) {
      if (!this.options.stripEnd) this.push(chunk);
      return;
    }
    let at = 0;
    let emitFrom = 0;
    while (at < chunk.length && !this.stats.ended) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - at);
        if (this.meta) this.meta.push(Buffer.from(chunk.subarray(at, at + take)));
        else this.data(chunk, at, take);
        at += take;
        this.remaining -= take;
        if (this.remaining === 0 && this.meta) this.finishMeta();
        continue;
      }
      if (this.headerFill === 0 && chunk.length - at >= BLOCK) {
        if (isZeroBlock(chunk, at)) {
          this.push(chunk.subarray(emitFrom, this.options.stripEnd ? at : chunk.length));
          this.stats.ended = true;
          return;
        }
        this.onHeader(chunk, at);
        at += BLOCK;
        continue;
      }
      // A header split across chunks: hold its bytes back until we know it is not the end marker.
      if (this.headerFill === 0 && at > emitFrom) this.push(chunk.subarray(emitFrom, at));
      const take = Math.min(BLOCK - this.headerFill, chunk.length - at);
      chunk.copy(this.header, this.headerFill, at, at + take);
      this.headerFill += take;
      at += take;
      emitFrom = at;
      if (this.headerFill < BLOCK) return;
      this.headerFill = 0;
      if (isZeroBlock(this.header, 0)) {
        if (!this.options.stripEnd) this.push(Buffer.concat([this.header, chunk.subarray(at)]));
        this.stats.ended = true;
        return;
      }
      this.push(Buffer.from(this.header));
      this.onHeader(this.header, 0);
    }
    if (emitFrom < chunk.length && !this.stats.ended) this.push(chunk.subarray(emitFrom));
  }

  private onHeader(b: Buffer, at: number): void {
    if (!checksumOk(b, at))
      throw new Error(`corrupt tar header after ${this.stats.entries} entries (checksum mismatch)`);
    const h = parseHeader(b, at);
    if (h.type === "pax" || h.type === "gnu-longname" || h.type === "gnu-longlink" || h.type === "pax-global") {
      this.remaining = Math.ceil(h.size / BLOCK) * BLOCK;
      this.meta = [];
      this.metaType = h.type;
      if (this.remaining === 0) this.finishMeta();
      return;
    }
    const p = this.pending;
    this.pending = {};
    // PAX may carry the real size of files too large for the header's digits.
    const entry: TarHeader = {
      ...h,
      name: p.path ?? h.name,
      linkname: p.linkpath ?? h.linkname,
      size: p.size ? Number(p.size) : h.size,
    };
    // Hard links, symlinks and directories have no data blocks even when a size is written.
    this.content = entry.type === "file" || entry.type === "other" ? entry.size : 0;
    this.remaining = Math.ceil(this.content / BLOCK) * BLOCK;
    this.stats.entries++;
    if (entry.type === "file") {
      this.stats.files++;
      this.stats.bytes += entry.size;
    }
    if (entry.type === "char" || entry.type === "block") this.stats.devices++;
    if ((entry.mode & 0o6000) !== 0 && entry.type !== "directory") this.stats.setuid++;
    if (entry.type === "symlink" && !linkStaysInside(entry, entry.name.split("/")[0]!)) this.stats.linksOut++;
    this.options.onEntry?.(entry);
  }

  private data(chunk: Buffer, at: number, take: number): void {
    const length = Math.min(take, this.content);
    if (length === 0) return;
    this.content -= length;
    this.options.onData?.(chunk.subarray(at, at + length));
  }

  private finishMeta(): void {
    const body = Buffer.concat(this.meta ?? []);
    const type = this.metaType;
    this.meta = undefined;
    if (type === "pax") Object.assign(this.pending, parsePax(body));
    const value = () => body.toString("utf8").replace(/\0.*$/s, "");
    if (type === "gnu-longname") this.pending.path = value();
    if (type === "gnu-longlink") this.pending.linkpath = value();
  }
}
