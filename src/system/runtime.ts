import { resolve } from "node:path";

/**
 * The one place that knows which runtime runs us: Bun (from source or compiled into one
 * binary) or Deno. Everything else asks here instead of testing for either.
 */
interface BunGlobal {
  main: string;
  zstdCompress(data: Uint8Array, options: { level: number }): Promise<Uint8Array>;
  zstdCompressSync(data: Uint8Array, options: { level: number }): Uint8Array;
  zstdDecompress(data: Uint8Array): Promise<Uint8Array>;
}
declare const Bun: BunGlobal | undefined;
declare const Deno: { execPath(): string; mainModule: string } | undefined;

const bun = typeof Bun !== "undefined" ? Bun : undefined;
export const isBun = bun !== undefined;

/** A compiled binary's modules live in Bun's virtual /$bunfs: the executable is the program. */
const compiled = bun !== undefined && (bun.main.startsWith("/$bunfs/") || bun.main.startsWith("B:/~BUN/"));

/** The crontab line must start this very program again: the binary, or the runtime plus the script. */
export function selfCommand(): string[] {
  if (bun) return compiled ? [process.execPath] : [process.execPath, resolve(bun.main)];
  if (typeof Deno !== "undefined") return [Deno.execPath(), "run", "-A", new URL(Deno.mainModule).pathname];
  return [process.execPath, resolve(process.argv[1] ?? "")];
}

/**
 * The URL to start a worker from, `path` counted from src/. In the compiled binary every module's
 * import.meta.url is the entry's, at the bundle's root, and scripts/build.ts bundles each worker
 * as an entry point of its own at the same path; from source it is counted from this file's folder.
 */
export function workerUrl(path: string): string {
  return new URL(compiled ? `./${path}` : `../${path}`, import.meta.url).href;
}

interface Zstd {
  compress(data: Uint8Array, level: number): Promise<Uint8Array>;
  compressSync(data: Uint8Array, level: number): Uint8Array;
  decompress(data: Uint8Array): Promise<Uint8Array>;
}

/** Whether zstd runs on the runtime's thread pool (Bun's), off the main thread. */
export const hasThreadPoolZstd = typeof bun?.zstdCompress === "function";

function bunOnly(): BunGlobal {
  if (!bun) throw new Error("zstd on the thread pool needs Bun");
  return bun;
}

/** zstd on Bun's thread pool: ask hasThreadPoolZstd first. */
export const threadPoolZstd: Zstd = {
  compress: (data, level) => bunOnly().zstdCompress(data, { level }),
  compressSync: (data, level) => bunOnly().zstdCompressSync(data, { level }),
  decompress: (data) => bunOnly().zstdDecompress(data),
};
