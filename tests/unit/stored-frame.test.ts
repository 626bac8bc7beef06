import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as zlib from "node:zlib";
import { FRAME_BYTES, ParallelZstdCompress, ParallelZstdDecompress } from "../../src/archive/parallel-zstd.ts";
import { looksIncompressible, storedFrame } from "../../src/archive/stored-frame.ts";
import { declaredContentSize, FrameScanner } from "../../src/archive/zstd-frame.ts";

const text = (n: number) =>
  Buffer.from("the quick brown fox jumps over the lazy dog ".repeat(Math.ceil(n / 44))).subarray(0, n);

test("random data is stored; text, zeros, or random with text in one sampled place are compressed", () => {
  expect(looksIncompressible(randomBytes(FRAME_BYTES), 1)).toBe(true);
  expect(looksIncompressible(text(FRAME_BYTES), 1)).toBe(false);
  expect(looksIncompressible(Buffer.alloc(FRAME_BYTES), 1)).toBe(false);
  const mixed = randomBytes(FRAME_BYTES);
  text(64 << 10).copy(mixed, FRAME_BYTES - (64 << 10)); // the last sample falls in here
  expect(looksIncompressible(mixed, 1)).toBe(false);
  expect(looksIncompressible(randomBytes(1000), 1)).toBe(false); // too small to judge: compressed
});

test("a stored frame is one valid zstd frame that declares its size: zstd, node:zlib and our scanner read it", () => {
  for (const n of [0, 1, 128 << 10, (128 << 10) + 1, FRAME_BYTES, FRAME_BYTES - 7]) {
    const content = randomBytes(n);
    const frame = storedFrame(content);
    expect(frame.length).toBeLessThanOrEqual(n + 9 + 3 * Math.max(1, Math.ceil(n / (128 << 10))));
    expect(declaredContentSize(frame)).toBe(n);
    expect(Buffer.from(Bun.zstdDecompressSync(frame)).equals(content)).toBe(true);
    expect(Buffer.from(zlib.zstdDecompressSync(frame)).equals(content)).toBe(true);
    expect(new FrameScanner().scan(frame)).toEqual([{ end: frame.length, skippable: false, contentSize: n }]);
  }
});

test("the zstd CLI tests and unpacks a stream of stored and compressed frames", () => {
  const a = randomBytes(300_000);
  const b = text(300_000);
  const stream = Buffer.concat([storedFrame(a), Bun.zstdCompressSync(b, { level: 1 }), storedFrame(Buffer.alloc(0))]);
  const r = spawnSync("zstd", ["-dc"], { input: stream });
  expect(r.status).toBe(0);
  expect(r.stdout.equals(Buffer.concat([a, b]))).toBe(true);
});

async function run(transform: NodeJS.ReadWriteStream, input: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from([input]),
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

test("an archive of random and text frames: random ones stored (no bigger than zstd makes them), all read back in order", async () => {
  const input = Buffer.concat([randomBytes(2 * FRAME_BYTES), text(FRAME_BYTES), randomBytes(5000)]);
  const compressed = await run(new ParallelZstdCompress(1), input);
  const frames = new FrameScanner().scan(compressed).map((f, i, all) => (i === 0 ? f.end : f.end - all[i - 1]!.end));
  expect(frames.slice(0, 2)).toEqual([
    storedFrame(Buffer.alloc(FRAME_BYTES)).length,
    storedFrame(Buffer.alloc(FRAME_BYTES)).length,
  ]);
  expect(frames[2]!).toBeLessThan(FRAME_BYTES / 10);
  expect(frames[0]!).toBeLessThanOrEqual(Bun.zstdCompressSync(input.subarray(0, FRAME_BYTES), { level: 1 }).length);
  expect((await run(new ParallelZstdDecompress(), compressed)).equals(input)).toBe(true);
  expect(Buffer.from(zlib.zstdDecompressSync(compressed)).equals(input)).toBe(true);
});
