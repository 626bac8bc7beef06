import type { Reporter } from "../app/context.ts";
import { liveProgress } from "../app/live-progress.ts";
import { drawLive } from "../terminal/live-line.ts";
import { logger } from "../terminal/log.ts";
import { isFancy } from "../terminal/tty.ts";

/** The use cases' events, rendered: a live progress line on a terminal, plain steps elsewhere. */
export function cliReporter(): Reporter {
  return {
    step(service, message) {
      logger.info(`${service}: ${message}`);
    },
    warn(service, message) {
      logger.warn(`${service}: ${message}`);
    },
    progress: isFancy() ? liveProgress((text) => drawLive(`  ${text}`)) : () => undefined,
  };
}
