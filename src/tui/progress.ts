import { S_BAR, log } from "@clack/prompts";
import type { Reporter } from "../app/context.ts";
import { clearLive, drawLive, progressText } from "../terminal/live-line.ts";
import { out } from "./io.ts";

/**
 * The core's events inside the screens: steps as clack log lines, progress as one live line
 * redrawn in place (cleared by whatever is written next). Not clack's spinner: it reads stdin in
 * raw mode and calls process.exit on Ctrl-C, which would leave containers stopped; here Ctrl-C
 * stays a SIGINT that the backup or restore answers by starting them again.
 */
export function tuiReporter(): Reporter & { end(): void } {
  let lastDraw = 0;
  return {
    step(service, message) {
      log.step(`${service}: ${message}`, out);
    },
    warn(service, message) {
      log.warn(`${service}: ${message}`, out);
    },
    progress(service, bytes, elapsedMs, of) {
      if (Date.now() - lastDraw < 100) return;
      lastDraw = Date.now();
      drawLive(`${S_BAR}  ${progressText(service, bytes, elapsedMs, of)}`);
    },
    end: clearLive,
  };
}
