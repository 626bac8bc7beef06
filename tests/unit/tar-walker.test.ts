import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { TarHeader } from "../../src/archive/tar-header.ts";
import { TarWalker } from "../../src/archive/tar-walker.ts";

function makeTar(format: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "walker-"));
  mkdirSync(join(dir, "vol/sub/empty"), { recursive: true });
  writeFileSync(join(dir, "vol/a.txt"), "hello\n");
  writeFileSync(join(dir, "vol/sub/big.bin"), Buffer.alloc(70_000, 7));
  const long = "n".repeat(120) + "-ünïcode name with spaces";
  writeFileSync(join(dir, "vol", long), "x");
  symlinkSync("../" + long, join(dir, "vol/sub/link"));
  return execFileSync("tar", ["-C", dir, `--format=${format}`, "--sort=name", "-cf", "-", "vol"], {
    maxBuffer: 1 << 26,
  });
}

async function walk(tar: Buffer, chunk: number, opts: ConstructorParameters<typeof TarWalker>[0] = {}) {
  const pieces: Buffer[] = [];
  for (let i = 0; i < tar.length; i += chunk) pieces.push(tar.subarray(i, i + chunk));
  const walker = new TarWalker(opts);
  const out: Buffer[] = [];
  walker.on("data", (b: Buffer) => out.push(b));
  await new Promise<void>((resolve, reject) => {
    Readable.from(pieces).pipe(walker).on("end", resolve).on("error", reject);
    walker.on("error", reject);
  });
  return { stats: walker.stats, out: Buffer.concat(out) };
}

describe("TarWalker", () => {
  for (const format of ["pax", "gnu"]) {
    const tar = makeTar(format);
    for (const chunk of [1, 7, 511, 512, 513, 4096, 65536, tar.length]) {
      test(`${format} tar in ${chunk}-byte chunks: passes through and counts`, async () => {
        const names: TarHeader[] = [];
        const { stats, out } = await walk(tar, chunk, { onEntry: (e) => names.push(e) });
        expect(out.equals(tar)).toBe(true);
        expect(stats).toEqual({
          entries: 7,
          files: 3,
          bytes: 6 + 70_000 + 1,
          devices: 0,
          setuid: 0,
          linksOut: 0,
          ended: true,
        });
        expect(names.map((e) => e.name)).toContain("vol/" + "n".repeat(120) + "-ünïcode name with spaces");
        expect(names.find((e) => e.type === "symlink")?.linkname).toBe(
          "../" + "n".repeat(120) + "-ünïcode name with spaces",
        );
      });
    }
    test(`${format}: stripEnd drops exactly the end marker, so two streams concatenate`, async () => {
      const a = await walk(tar, 1000, { stripEnd: true });
      const b = await walk(tar, 333, { stripEnd: true });
      const joined = Buffer.concat([a.out, b.out, Buffer.alloc(1024)]);
      const listing = execFileSync("tar", ["-tf", "-"], { input: joined }).toString().trim().split("\n");
      expect(listing.length).toBe(14);
      expect(a.out.length % 512).toBe(0);
    });
  }

  test("a truncated stream is an error", async () => {
    const tar = makeTar("pax");
    await expect(walk(tar.subarray(0, 3000), 512)).rejects.toThrow(/truncated/);
  });

  test("a corrupted header is an error", async () => {
    const tar = Buffer.from(makeTar("pax"));
    tar[5] = tar[5]! ^ 0xff;
    await expect(walk(tar, 4096)).rejects.toThrow(/checksum/);
  });

  test("onEntry can reject an entry", async () => {
    const tar = makeTar("gnu");
    await expect(
      walk(tar, 4096, {
        onEntry: (e) => {
          if (e.type === "symlink") throw new Error("no links");
        },
      }),
    ).rejects.toThrow(/no links/);
  });
});
