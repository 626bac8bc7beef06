import { writeSync } from "node:fs";

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Data for stdout (tables, --json), written synchronously: a large answer to a slow pipe
 * must arrive whole, and Bun reports a stream write as flushed before the pipe has taken it.
 */
export function writeOut(text: string): void {
  const data = Buffer.from(text);
  let at = 0;
  while (at < data.length) {
    try {
      at += writeSync(1, data, at);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EPIPE") return;
      if (code !== "EAGAIN") throw e;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}
