/**
 * Page-cache hints for the archive files we stream (Linux, through libc, under Bun). A nightly
 * backup read or written through the cache would push the services' own files out of memory,
 * and fresh cache pages are not free either: on the 2-core VM, writing 700 MiB into a growing
 * cache took 2.3 s of kernel CPU, through a recycled window of a few MiB 0.4 s.
 * Elsewhere (Deno, macOS, musl) the hints are skipped and the cache behaves as usual.
 */
const SYNC_FILE_RANGE_WRITE = 2;
const POSIX_FADV_DONTNEED = 4;

interface Libc {
  sync_file_range(fd: number, offset: number, length: number, flags: number): number;
  posix_fadvise(fd: number, offset: number, length: number, advice: number): number;
}

let libc: Promise<Libc | undefined> | undefined;

function loadLibc(): Promise<Libc | undefined> {
  return (libc ??= (async () => {
    if (typeof Bun === "undefined" || process.platform !== "linux") return undefined;
    try {
      const { dlopen, FFIType } = await import("bun:ffi");
      const call = { args: [FFIType.i32, FFIType.i64, FFIType.i64, FFIType.i32], returns: FFIType.i32 } as const;
      return dlopen("libc.so.6", { sync_file_range: call, posix_fadvise: call }).symbols as unknown as Libc;
    } catch {
      return undefined;
    }
  })());
}

/** Hints are advice: a kernel or filesystem that refuses one changes nothing we rely on. */
export interface CacheHints {
  /** Starts writing [offset, offset + length) to disk without waiting for it. */
  startWriteback(fd: number, offset: number, length: number): void;
  /** Drops the range's clean pages from the cache; pages still dirty or being written stay. */
  drop(fd: number, offset: number, length: number): void;
}

const NONE: CacheHints = { startWriteback() {}, drop() {} };

export async function cacheHints(): Promise<CacheHints> {
  const c = await loadLibc();
  if (!c) return NONE;
  return {
    startWriteback: (fd, offset, length) => void c.sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE),
    drop: (fd, offset, length) => void c.posix_fadvise(fd, offset, length, POSIX_FADV_DONTNEED),
  };
}
