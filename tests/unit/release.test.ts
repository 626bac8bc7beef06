/**
 * Stream chunks released as soon as they are used (src/util/release.ts): never before the last
 * stage is done with every piece, never a buffer someone else may share, and the stages
 * between (the tar walker, the decompressor) keep nothing that is released under them.
 */
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ParallelZstdCompress, ParallelZstdDecompress } from "../../src/archive/parallel-zstd.ts";
import { TarWalker } from "../../src/archive/tar-walker.ts";
import { consumed, markDisposable, release } from "../../src/util/release.ts";

const fresh = (n: number, fill = 1) => Buffer.alloc(n, fill);

describe("release", () => {
  test("a marked chunk is released by its last piece, not before", () => {
    const chunk = fresh(64 << 10);
    markDisposable(chunk);
    consumed(chunk.subarray(0, 1000));
    consumed(chunk.subarray(1000, 5000));
    expect(chunk.length).toBe(64 << 10);
    consumed(chunk.subarray(5000));
    expect(chunk.length).toBe(0);
    expect(chunk.buffer.detached).toBe(true);
  });

  test("a chunk nobody marked is never released", () => {
    const chunk = fresh(64 << 10);
    consumed(chunk);
    expect(chunk.buffer.detached).toBe(false);
  });

  test("a slice of a larger buffer (a pool's, say) cannot be marked or released: its neighbours stay", () => {
    const pool = new ArrayBuffer(8192);
    const head = Buffer.from(pool, 0, 4096).fill(2);
    const tail = Buffer.from(pool, 4096);
    markDisposable(tail);
    consumed(tail);
    release(tail);
    expect(pool.detached).toBe(false);
    expect(head[0]).toBe(2);
  });
});

function sampleTar(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "release-"));
  mkdirSync(join(dir, "vol/sub"), { recursive: true });
  for (let i = 0; i < 20; i++)
    writeFileSync(join(dir, "vol/sub", `${"p".repeat(150)}-${i}.txt`), `file ${i}\n`.repeat(i * 40));
  return execFileSync("tar", ["-C", dir, "--format=pax", "--sort=name", "-cf", "-", "vol"], { maxBuffer: 1 << 26 });
}

/** Fresh copies in `size`-byte chunks, as a socket or file read gives them. */
const reads = (data: Buffer, size: number) =>
  Array.from({ length: Math.ceil(data.length / size) }, (_, i) => Buffer.from(data.subarray(i * size, (i + 1) * size)));

/** The last stage: copies each piece, then says it is done with it; `seen` keeps the pieces themselves. */
function copyingSink(out: Buffer[], seen: Buffer[] = []): Writable {
  return new Writable({
    write(chunk: Buffer, _e, done) {
      seen.push(chunk);
      out.push(Buffer.from(chunk));
      consumed(chunk);
      done();
    },
  });
}

describe("stages between keep nothing that is released under them", () => {
  const tar = sampleTar();
  for (const size of [7, 300, 511, 4096]) {
    test(`tar walker, fresh input in ${size}-byte chunks: long PAX names intact, chunks released`, async () => {
      const chunks = reads(tar, size);
      const names: string[] = [];
      const out: Buffer[] = [];
      const walker = new TarWalker({ freshInput: true, onEntry: (e) => names.push(e.name) });
      await pipeline(Readable.from(chunks), walker, copyingSink(out));
      expect(Buffer.concat(out).equals(tar)).toBe(true);
      expect(names).toContain(`vol/sub/${"p".repeat(150)}-19.txt`);
      expect(walker.stats.files).toBe(20);
      // Only a chunk ending inside a header is held back whole; it is left to the collector.
      expect(chunks.filter((c) => c.buffer.detached).length).toBeGreaterThan(chunks.length / 2);
    });
  }

  test("zstd frames decompressed from fresh reads of odd sizes: output intact, reads and results released", async () => {
    // Frames of 1 MiB that zstd shrinks to tens of KiB, straddling the reads.
    let seed = 7;
    const words = Array.from({ length: 900_000 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return `w${seed % 5000}`;
    });
    const data = Buffer.from(words.join(" "));
    const frames: Buffer[] = [];
    await pipeline(Readable.from([data]), new ParallelZstdCompress(1), copyingSink(frames));
    const compressed = Buffer.concat(frames);
    const chunks = reads(compressed, 7_001);
    for (const c of chunks) markDisposable(c);
    const out: Buffer[] = [];
    const results: Buffer[] = [];
    await pipeline(Readable.from(chunks), new ParallelZstdDecompress(), copyingSink(out, results));
    expect(Buffer.concat(out).equals(data)).toBe(true);
    expect(results.length).toBeGreaterThan(3);
    expect(chunks.length).toBeGreaterThan(2 * results.length);
    expect(results.every((r) => (r.buffer as ArrayBuffer).detached)).toBe(true);
    // Each read is released once its last byte is copied into a frame; the last, cut short, is not whole.
    expect(chunks.slice(0, -1).every((c) => c.buffer.detached)).toBe(true);
  });
});
