import type { ProgressOf } from "../app/context.ts";
import { formatBytes, formatDuration } from "../util/format.ts";

let live = false;
let rawWrite: ((text: string) => boolean) | undefined;

/**
 * Draws the one live progress line on a terminal (stderr). From the first drawing on, whatever
 * else is written to the terminal (a step, the summary, the outcome, an error, a prompt, data on
 * stdout) clears the line first, so nothing is ever joined to the progress text, whoever prints it.
 */
export function drawLive(text: string): void {
  const write = guardStderr();
  // Cut to the width: a wrapped line would leave its first rows behind when cleared.
  const width = process.stderr.columns;
  write(`\r\x1b[K${width ? text.slice(0, width - 1) : text}`);
  live = true;
}

export function clearLive(): void {
  if (live) rawWrite?.("\r\x1b[K");
  live = false;
}

function guardStderr(): (text: string) => boolean {
  if (rawWrite) return rawWrite;
  const raw = clearingFirst(process.stderr);
  if (process.stdout.isTTY) clearingFirst(process.stdout);
  return (rawWrite = (text) => raw(text));
}

/** Makes the stream's writes clear the live line first; returns its own write. */
function clearingFirst(stream: NodeJS.WriteStream): NodeJS.WriteStream["write"] {
  const raw = stream.write.bind(stream);
  stream.write = ((...args: Parameters<typeof raw>) => (clearLive(), raw(...args))) as typeof stream.write;
  return raw;
}

/**
 * "svc: read 577 MiB of 1.2 GiB, 45%, 193 MiB/s, 4 s left": percent and time left only with a
 * total, marked "~" when it is an estimate, and left out once an estimate is passed.
 */
export function progressText(service: string, bytes: number, elapsedMs: number, of: ProgressOf = {}): string {
  const rate = elapsedMs > 0 ? (bytes / elapsedMs) * 1000 : 0;
  const speed = `${formatBytes(rate)}/s`;
  const head = `${service}: ${of.verb ?? "read"} ${formatBytes(bytes)}`;
  const total = of.total;
  if (total === undefined || total <= 0 || bytes > total) return `${head}, ${speed}`;
  const mark = of.estimate ? "~" : "";
  const percent = Math.floor((bytes * 100) / total);
  // The first second's rate says little about the rest.
  const left = elapsedMs >= 1000 && rate > 0 ? `, ${mark}${timeLeft(((total - bytes) / rate) * 1000)} left` : "";
  return `${head} of ${mark}${formatBytes(total)}, ${mark}${percent}%, ${speed}${left}`;
}

function timeLeft(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `${s} s` : formatDuration(s * 1000);
}
