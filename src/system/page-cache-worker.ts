/**
 * The thread that carries out page-cache hints (page-cache.ts says why). Each hint opens the
 * file by name, so no descriptor of the main thread is shared: a file closed or removed in the
 * meantime is simply skipped. Every message is answered with its id, done or not.
 */
import { closeSync, openSync } from "node:fs";
import type { HintMessage } from "./page-cache.ts";

declare const self: Worker;

const SYNC_FILE_RANGE_WAIT_BEFORE = 1;
const SYNC_FILE_RANGE_WRITE = 2;
const SYNC_FILE_RANGE_WAIT_AFTER = 4;
const POSIX_FADV_DONTNEED = 4;

type Call = (fd: number, offset: number, length: number, flags: number) => number;

async function loadLibc(): Promise<{ sync_file_range: Call; posix_fadvise: Call } | undefined> {
  try {
    const { dlopen, FFIType } = await import("bun:ffi");
    const call = { args: [FFIType.i32, FFIType.i64, FFIType.i64, FFIType.i32], returns: FFIType.i32 } as const;
    return dlopen("libc.so.6", { sync_file_range: call, posix_fadvise: call }).symbols as unknown as {
      sync_file_range: Call;
      posix_fadvise: Call;
    };
  } catch {
    return undefined;
  }
}

const libc = await loadLibc();

function carryOut({ file, offset = 0, length = 0, writeBack }: HintMessage): void {
  if (!libc || file === undefined) return;
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return;
  }
  try {
    if (writeBack)
      libc.sync_file_range(
        fd,
        offset,
        length,
        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER,
      );
    libc.posix_fadvise(fd, offset, length, POSIX_FADV_DONTNEED);
  } finally {
    closeSync(fd);
  }
}

self.onmessage = ({ data }: MessageEvent<HintMessage>) => {
  carryOut(data);
  postMessage(data.id);
};
