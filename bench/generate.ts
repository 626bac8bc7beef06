/**
 * Fills a volume with a deterministic data set: a tar generated in this process is streamed
 * into `docker cp - HELPER:/v/<volume>` (a never-started helper), so nothing runs in a container
 * and the data never touches the host disk twice.
 */
import { once } from "node:events";
import type { Writable } from "node:stream";
import { Prng, randomStream, tarHeader, tarPadding, textStream } from "./content.ts";
import { start } from "./proc.ts";

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export type ShapeKind = "mixed" | "small" | "random";

export interface ShapeSpec {
  /** a, b, c, or a scaling point such as a-256m. */
  key: string;
  label: string;
  kind: ShapeKind;
  /** mixed: total bytes (half incompressible, half text); random: total bytes, all incompressible; small: ignored. */
  bytes: number;
  files: number;
}

export interface Generated {
  bytes: number;
  files: number;
  dirs: number;
  ms: number;
}

interface FilePlan {
  path: string;
  size: number;
  random: boolean;
}

const SEED = 42;

/** Mixed: half the bytes in incompressible blobs, half in text logs, sizes varying about 5x. */
function mixedPlan(spec: ShapeSpec): FilePlan[] {
  const rnd = new Prng(SEED);
  const plans: FilePlan[] = [];
  for (const random of [true, false]) {
    const n = Math.max(1, Math.floor(spec.files / 2));
    const weights = Array.from({ length: n }, () => 0.25 + rnd.float());
    const total = weights.reduce((a, b) => a + b, 0);
    const half = Math.floor(spec.bytes / 2);
    let left = half;
    weights.forEach((w, i) => {
      const size = i === n - 1 ? left : Math.floor((half * w) / total);
      left -= size;
      const dir = random ? "blobs" : "logs";
      const name = `${dir}/${String(i % 8).padStart(2, "0")}/${random ? "blob" : "log"}-${String(i).padStart(5, "0")}.${random ? "bin" : "log"}`;
      plans.push({ path: name, size, random });
    });
  }
  return plans;
}

/** Small: 1-8 KiB files, 100 per leaf folder, three folder levels deep; every other one random. */
function smallPlan(spec: ShapeSpec): FilePlan[] {
  const rnd = new Prng(SEED + 1);
  return Array.from({ length: spec.files }, (_, j) => {
    const leaf = Math.floor(j / 100);
    const dir = `d${Math.floor(leaf / 100)}/d${Math.floor(leaf / 10) % 10}/d${leaf % 10}`;
    const random = j % 2 === 0;
    return {
      path: `${dir}/f${String(j).padStart(6, "0")}.${random ? "bin" : "txt"}`,
      size: rnd.int(KiB, 8 * KiB),
      random,
    };
  });
}

/** Random: files of equal size, all incompressible, so the archive is as large as the volume. */
function randomPlan(spec: ShapeSpec): FilePlan[] {
  const size = Math.floor(spec.bytes / spec.files);
  return Array.from({ length: spec.files }, (_, i) => ({
    path: `blobs/${String(i % 8).padStart(2, "0")}/blob-${String(i).padStart(5, "0")}.bin`,
    size: i === spec.files - 1 ? spec.bytes - size * (spec.files - 1) : size,
    random: true,
  }));
}

export function planFiles(spec: ShapeSpec): FilePlan[] {
  if (spec.kind === "random") return randomPlan(spec);
  return spec.kind === "mixed" ? mixedPlan(spec) : smallPlan(spec);
}

async function write(out: Writable, chunk: Buffer): Promise<void> {
  if (!out.write(chunk)) await once(out, "drain");
}

/** Streams the shape's tar into the volume through the helper; returns what was written. */
export async function generate(spec: ShapeSpec, helper: string, volume: string): Promise<Generated> {
  const t0 = performance.now();
  const { child, done } = start("docker", ["cp", "-", `${helper}:/v/${volume}`], { stdin: "pipe" });
  const stdin = child.stdin!;
  // EPIPE when docker cp exits early is reported through `failed` below, with docker's message.
  stdin.on("error", () => undefined);
  // A docker cp that died early must surface as its own error, not as a stuck write.
  const failed = done.then((r) =>
    r.code === 0 ? undefined : new Error(`docker cp into ${volume} failed: ${r.stderr.trim()}`),
  );
  const plans = planFiles(spec);
  const madeDirs = new Set<string>();
  let bytes = 0;
  try {
    for (const [i, f] of plans.entries()) {
      const parts = f.path.split("/");
      for (let d = 1; d < parts.length; d++) {
        const dir = parts.slice(0, d).join("/") + "/";
        if (!madeDirs.has(dir)) {
          madeDirs.add(dir);
          await write(stdin, tarHeader(dir, 0, true));
        }
      }
      await write(stdin, tarHeader(f.path, f.size, false));
      const next = f.random ? randomStream(SEED, i) : textStream(SEED, i);
      for (let left = f.size; left > 0; left -= MiB) await write(stdin, next(Math.min(MiB, left)));
      await write(stdin, tarPadding(f.size));
      bytes += f.size;
    }
    await write(stdin, Buffer.alloc(1024));
    stdin.end();
  } catch (e) {
    stdin.destroy();
    throw (await failed) ?? e;
  }
  const err = await failed;
  if (err) throw err;
  return { bytes, files: plans.length, dirs: madeDirs.size, ms: performance.now() - t0 };
}
