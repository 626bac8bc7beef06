import { formatBytes, formatDuration } from "../util/format.ts";
import type { ProgressOf, Reporter } from "./context.ts";

/** The live line is drawn at most this often: faster, a terminal only flickers. */
const REDRAW_MS = 100;

/** A reporter's progress for a live line: worded by progressText, passed on to `draw` at most every REDRAW_MS. */
export function liveProgress(draw: (text: string) => void): Reporter["progress"] {
  let lastDraw = 0;
  return (service, bytes, elapsedMs, of) => {
    if (Date.now() - lastDraw < REDRAW_MS) return;
    lastDraw = Date.now();
    draw(progressText(service, bytes, elapsedMs, of));
  };
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
