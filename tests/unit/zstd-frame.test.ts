import { expect, test } from "bun:test";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as zlib from "node:zlib";
import { FRAME_BYTES, ParallelZstdCompress, ParallelZstdDecompress } from "../../src/archive/parallel-zstd.ts";
import { declaredContentSize, FrameScanner } from "../../src/archive/zstd-frame.ts";

function data(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    b[i] = i % 3 === 0 ? 97 + (s % 5) : s >>> 24; // part text, part noise
  }
  return b;
}

/** Feeds `stream` in pieces of the given sizes (cycled), the way pipes deliver it. */
function pieces(stream: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < stream.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(stream.subarray(at, at + n));
    at += n;
  }
  return out;
}

async function run(transform: NodeJS.ReadWriteStream, input: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(input),
    transform,
    new Writable({
      write: (c, _e, d) => {
        out.push(c);
        d();
      },
    }),
  );
  return Buffer.concat(out);
}

const withChecksum = (b: Buffer) => zlib.zstdCompressSync(b, { params: { [zlib.constants.ZSTD_c_checksumFlag]: 1 } });
const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 5, 0, 0, 0]), Buffer.from("hello")]);

test("the scanner finds every frame end, whatever the chunking: plain, checksummed, empty, skippable frames", () => {
  const frames = [
    Bun.zstdCompressSync(data(70_000)),
    withChecksum(data(5_000, 2)),
    Bun.zstdCompressSync(Buffer.alloc(0)),
    skippable,
    Bun.zstdCompressSync(Buffer.alloc(300_000)),
  ];
  const stream = Buffer.concat(frames);
  let end = 0;
  const expected = frames.map((f) => (end += f.length));
  for (const sizes of [[stream.length], [1], [3, 7], [4096], [17, 1, 200]]) {
    const scanner = new FrameScanner();
    const found: number[] = [];
    let base = 0;
    for (const piece of pieces(stream, sizes)) {
      for (const e of scanner.scan(Buffer.from(piece))) found.push(base + e.end);
      base += piece.length;
    }
    expect({ sizes, found }).toEqual({ sizes, found: expected });
    expect(scanner.atBoundary).toBe(true);
  }
});

test("declared content sizes are read from every header width", () => {
  for (const n of [0, 200, 300, 70_000, 5_000_000]) {
    const frame = Buffer.from(Bun.zstdCompressSync(Buffer.alloc(n)));
    expect(declaredContentSize(frame)).toBe(n);
  }
});

test("parallel compression round-trips through the zstd CLI format and our decompressor, in order", async () => {
  const input = data(3 * FRAME_BYTES + 12_345);
  const compressed = await run(new ParallelZstdCompress(1), pieces(input, [65_536, 1000, 7]));
  expect(Buffer.from(zlib.zstdDecompressSync(compressed)).equals(input)).toBe(true); // one valid zstd stream
  const back = await run(new ParallelZstdDecompress(), pieces(compressed, [100_000, 3]));
  expect(back.equals(input)).toBe(true);
});

test("the decompressor refuses truncation, a bad magic number and a frame that does not declare a small size", async () => {
  const good = await run(new ParallelZstdCompress(1), [data(2 * FRAME_BYTES)]);
  await expect(run(new ParallelZstdDecompress(), [good.subarray(0, good.length - 10)])).rejects.toThrow(/truncated/);
  await expect(
    run(new ParallelZstdDecompress(), [Buffer.concat([good, Buffer.from("junk after the end")])]),
  ).rejects.toThrow(/bad magic/);
  const streamed = zlib.zstdCompressSync(data(1000)); // node:zlib one-shot declares its size; a stream's frame does not
  const unsized = await run(zlib.createZstdCompress(), [data(1000)]);
  expect(declaredContentSize(unsized)).toBeUndefined();
  await expect(run(new ParallelZstdDecompress(), [Buffer.concat([streamed, unsized])])).rejects.toThrow(
    /declared size/,
  );
});
