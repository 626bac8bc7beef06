import { log, S_BAR } from "@clack/prompts";
import type { Reporter } from "../app/context.ts";
import { liveProgress } from "../app/live-progress.ts";
import { clearLive, drawLive } from "../terminal/live-line.ts";
import { out } from "./io.ts";

/**
 * The use cases' events inside the screens: steps as clack log lines, progress as one live line
 * redrawn in place (cleared by whatever is written next). Not clack's spinner: it reads stdin in
 * raw mode and calls process.exit on Ctrl-C, which would leave containers stopped; here Ctrl-C
 * stays a SIGINT that the backup or restore answers by starting them again.
 */
export function tuiReporter(): Reporter & { end(): void } {
  return {
    step(service, message) {
      log.step(`${service}: ${message}`, out);
    },
    warn(service, message) {
      log.warn(`${service}: ${message}`, out);
    },
    progress: liveProgress((text) => drawLive(`${S_BAR}  ${text}`)),
    end: clearLive,
  };
}
