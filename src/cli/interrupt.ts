import { InterruptedError } from "../errors.ts";
import { logger } from "./log.ts";

/**
 * SIGINT/SIGTERM abort the running operation instead of killing the process, so that the
 * engine's cleanup (starting containers, removing temporary files) always runs first.
 */
export const interrupt = new AbortController();

let installed = false;

export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  // SIGHUP too: a dropped ssh session must not leave a container stopped.
  for (const sig of ["SIGHUP", "SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      if (!interrupt.signal.aborted) {
        logger.warn(`${sig} received: stopping, and starting again any container this run stopped`);
        interrupt.abort(new InterruptedError(sig));
      } else {
        logger.warn(`still cleaning up; stopping now would leave containers stopped until the next run`);
      }
    });
  }
}

export function interruptedBy(): InterruptedError | undefined {
  const r: unknown = interrupt.signal.reason;
  return interrupt.signal.aborted && r instanceof InterruptedError ? r : undefined;
}
