import { createConsola, type ConsolaInstance, type LogObject } from "consola";
import { isFancy } from "./tty.ts";
import type { Reporter } from "../app/context.ts";
import { clearLive, drawLive, progressText } from "./live-line.ts";

/** Plain, timestamped lines for pipes and cron: one per step, no colour, no spinner. */
const plainReporter = {
  log(obj: LogObject) {
    const text = obj.args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
    const level = obj.type === "log" || obj.type === "info" || obj.type === "success" ? "" : `${obj.type}: `;
    process.stderr.write(`${new Date().toISOString()} ${level}${text}\n`);
  },
};

/** Messages go to stderr, always: stdout carries only data (`--json`, tables). */
export const logger: ConsolaInstance = isFancy()
  ? createConsola({ stdout: process.stderr, stderr: process.stderr, formatOptions: { date: false } })
  : createConsola({ reporters: [plainReporter] });

/** The core's events, rendered: a live progress line on a terminal, plain steps elsewhere. */
export function cliReporter(): Reporter {
  const fancy = isFancy();
  let lastDraw = 0;
  return {
    step(service, message) {
      logger.info(`${service}: ${message}`);
    },
    warn(service, message) {
      logger.warn(`${service}: ${message}`);
    },
    progress(service, bytes, elapsedMs, of) {
      if (!fancy || Date.now() - lastDraw < 100) return;
      lastDraw = Date.now();
      drawLive(`  ${progressText(service, bytes, elapsedMs, of)}`);
    },
  };
}

export function endLive(): void {
  clearLive();
}
