/**
 * Page-cache hints for the archive files we stream (Linux, through libc, under Bun). A nightly
 * backup read or written through the cache would push the services' own files out of memory,
 * and fresh cache pages cost kernel CPU too: a recycled window is far cheaper (docs/design.md).
 *
 * The hints run on a thread of their own (page-cache-worker.ts), which opens the file by name:
 * writing a range back blocks while the disk is behind (a USB disk, an SD card), and the stream
 * must never wait for that, or downtime would. Elsewhere (Deno, macOS, musl) nothing is done.
 */
import { isBun, workerUrl } from "./runtime.ts";

export interface CacheHints {
  /** Writes [offset, offset + length) to disk, then drops it from the cache. */
  writeBackAndDrop(file: string, offset: number, length: number): void;
  /** Drops the range's clean pages (length 0: to the end of the file); dirty ones stay. */
  drop(file: string, offset: number, length: number): void;
  /** Resolves once every hint given so far has been carried out. */
  settled(): Promise<void>;
}

export interface HintMessage {
  id: number;
  file?: string;
  offset?: number;
  length?: number;
  writeBack?: boolean;
}

let worker: Worker | undefined;
let failed = false;
let lastId = 0;
const waiting = new Map<number, () => void>();

function post(message: Omit<HintMessage, "id">): number {
  if (!worker) {
    worker = new Worker(workerUrl("system/page-cache-worker.ts"));
    // Hints are advice: the process never stays alive for them, except while settled() waits.
    worker.unref();
    worker.onmessage = ({ data: id }: MessageEvent<number>) => {
      waiting.get(id)?.();
      waiting.delete(id);
      if (waiting.size === 0) worker!.unref();
    };
    // A thread that cannot start must not leave anyone waiting for it.
    worker.onerror = () => {
      for (const resolve of waiting.values()) resolve();
      waiting.clear();
      failed = true;
    };
  }
  const id = ++lastId;
  worker.postMessage({ ...message, id });
  return id;
}

const WORKER: CacheHints = {
  writeBackAndDrop(file, offset, length) {
    post({ file, offset, length, writeBack: true });
  },
  drop(file, offset, length) {
    post({ file, offset, length });
  },
  settled: () =>
    new Promise<void>((resolve) => {
      if (failed) return resolve();
      waiting.set(post({}), resolve);
      worker!.ref();
    }),
};

export const NO_HINTS: CacheHints = { writeBackAndDrop() {}, drop() {}, settled: async () => {} };

export const cacheHints = (): CacheHints => (isBun && process.platform === "linux" ? WORKER : NO_HINTS);
