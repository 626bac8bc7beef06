/**
 * Finds where zstd frames end in a byte stream without decompressing (RFC 8878, section 3.1):
 * a frame header, then blocks whose 3-byte headers give their sizes, then an optional checksum.
 * This lets independent frames be decompressed in parallel while the stream is still read.
 */
export const MAGIC = 0xfd2fb528;
const SKIPPABLE = 0x184d2a50; // 0x184D2A50-0x184D2A5F: skippable frames carry no data for us

const singleSegment = (descriptor: number) => ((descriptor >> 5) & 1) === 1;
/** Width of the Frame_Content_Size field, the header's last. */
const contentSizeBytes = (descriptor: number) => [singleSegment(descriptor) ? 1 : 0, 2, 4, 8][descriptor >> 6]!;

/** Size of the frame header whose first 5 bytes (magic, descriptor) are given, magic included. */
export function frameHeaderSize(descriptor: number): number {
  return 4 + 1 + (singleSegment(descriptor) ? 0 : 1) + [0, 1, 2, 4][descriptor & 3]! + contentSizeBytes(descriptor);
}

/** The content size a frame header declares, or undefined when it leaves it out. */
export function declaredContentSize(header: Buffer): number | undefined {
  const descriptor = header[4]!;
  const fcsBytes = contentSizeBytes(descriptor);
  if (fcsBytes === 0) return undefined;
  const at = frameHeaderSize(descriptor) - fcsBytes;
  if (fcsBytes === 1) return header[at]!;
  if (fcsBytes === 2) return header.readUInt16LE(at) + 256;
  if (fcsBytes === 4) return header.readUInt32LE(at);
  return Number(header.readBigUInt64LE(at));
}

type State = "magic" | "header" | "block" | "skip" | "checksum";

/** Where a frame ends in the chunk just scanned, and the content size its header declared. */
export interface FrameEnd {
  end: number;
  skippable: boolean;
  contentSize: number | undefined;
}

/**
 * Feeds bytes in; reports the byte offset just past each complete frame. Skippable frames are
 * reported as frames too (with `skippable` set) so callers can drop them.
 */
export class FrameScanner {
  private state: State = "magic";
  private need = 4;
  private got = Buffer.alloc(18);
  private fill = 0;
  private skip = 0;
  private last = false;
  private checksum = false;
  private skippable = false;
  private size: number | undefined;
  /** True between frames: the stream may end here. */
  get atBoundary(): boolean {
    return this.state === "magic" && this.fill === 0;
  }

  /** Every frame that ends in `chunk`. */
  scan(chunk: Buffer): FrameEnd[] {
    const ends: FrameEnd[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        at += n;
        this.skip -= n;
        if (this.skip === 0) this.afterSkip(ends, at);
        continue;
      }
      const n = Math.min(this.need - this.fill, chunk.length - at);
      chunk.copy(this.got, this.fill, at, at + n);
      this.fill += n;
      at += n;
      if (this.fill === this.need) this.onField(ends, at);
    }
    return ends;
  }

  private onField(ends: FrameEnd[], at: number): void {
    const g = this.got;
    if (this.state === "magic") {
      const magic = g.readUInt32LE(0);
      if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE) return this.expect("skip", 8, true);
      if (magic !== MAGIC) throw new Error("not a zstd frame (bad magic number): the archive is corrupt");
      return this.expect("header", 5, true);
    }
    if (this.state === "header" && this.need === 5) {
      this.checksum = ((g[4]! >> 2) & 1) === 1;
      return this.expect("header", frameHeaderSize(g[4]!), true);
    }
    if (this.state === "header") {
      this.size = declaredContentSize(g);
      return this.expect("block", 3);
    }
    if (this.state === "skip") {
      this.skippable = true;
      this.skip = g.readUInt32LE(4);
      this.fill = 0;
      if (this.skip === 0) this.afterSkip(ends, at);
      return;
    }
    if (this.state === "block") {
      const h = g[0]! | (g[1]! << 8) | (g[2]! << 16);
      const type = (h >> 1) & 3;
      if (type === 3) throw new Error("reserved zstd block type: the archive is corrupt");
      this.last = (h & 1) === 1;
      this.skip = type === 1 ? 1 : h >>> 3;
      this.fill = 0;
      if (this.skip === 0) this.afterSkip(ends, at);
      return;
    }
    ends.push({ end: at, skippable: false, contentSize: this.size }); // the checksum was the frame's last field
    this.expect("magic", 4);
  }

  private afterSkip(ends: FrameEnd[], at: number): void {
    if (this.skippable || (this.state === "block" && this.last && !this.checksum)) {
      ends.push({ end: at, skippable: this.skippable, contentSize: this.skippable ? 0 : this.size });
      this.skippable = false;
      return this.expect("magic", 4);
    }
    if (this.last) return this.expect("checksum", 4);
    this.expect("block", 3);
  }

  private expect(state: State, need: number, keep = false): void {
    this.state = state;
    this.need = need;
    if (!keep) this.fill = 0;
  }
}
