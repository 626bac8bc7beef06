import { S_BAR, log } from "@clack/prompts";
import type { Reporter } from "../engine/context.ts";
import { formatBytes } from "../util/format.ts";
import { out } from "./io.ts";

/**
 * The core's events inside the screens: steps as clack log lines, bytes and throughput as one
 * live line redrawn in place. Not clack's spinner: it reads stdin in raw mode and calls
 * process.exit on Ctrl-C, which would leave containers stopped; here Ctrl-C stays a SIGINT
 * that the engine answers by starting them again.
 */
export function tuiReporter(): Reporter & { end(): void } {
  let live = false;
  let lastDraw = 0;
  const clear = () => {
    if (live) process.stderr.write("\r\x1b[K");
    live = false;
  };
  return {
    step(service, message) {
      clear();
      log.step(`${service}: ${message}`, out);
    },
    warn(service, message) {
      clear();
      log.warn(`${service}: ${message}`, out);
    },
    progress(service, bytes, elapsedMs) {
      if (Date.now() - lastDraw < 100) return;
      lastDraw = Date.now();
      const rate = elapsedMs > 0 ? (bytes / elapsedMs) * 1000 : 0;
      process.stderr.write(`\r\x1b[K${S_BAR}  ${service}: ${formatBytes(bytes)} read, ${formatBytes(rate)}/s`);
      live = true;
    },
    end: clear,
  };
}
