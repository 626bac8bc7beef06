import { type ConsolaInstance, createConsola, LogLevels, type LogObject } from "consola";
import { isFancy } from "./tty.ts";

/** Plain, timestamped lines for pipes and cron: one per step, no colour, no spinner. */
const plainReporter = {
  log(obj: LogObject) {
    const text = obj.args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
    const level = obj.type === "log" || obj.type === "info" || obj.type === "success" ? "" : `${obj.type}: `;
    process.stderr.write(`${new Date().toISOString()} ${level}${text}\n`);
  },
};

/**
 * Messages go to stderr, always: stdout carries only data (`--json`, tables). The level is fixed:
 * consola would otherwise drop everything but warnings wherever NODE_ENV=test or TEST is set.
 */
export const logger: ConsolaInstance = isFancy()
  ? createConsola({
      level: LogLevels.info,
      stdout: process.stderr,
      stderr: process.stderr,
      formatOptions: { date: false },
    })
  : createConsola({ level: LogLevels.info, reporters: [plainReporter] });
