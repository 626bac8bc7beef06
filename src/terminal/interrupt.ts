import { InterruptedError } from "../util/errors.ts";
import { logger } from "./log.ts";

/**
 * SIGINT/SIGTERM (and SIGHUP, for a dropped ssh session) abort the running operation instead
 * of killing the process, so that the use case's cleanup (starting containers, removing
 * temporary files) always runs first.
 */
export const interrupt = new AbortController();

let installed = false;

function onSignal(sig: "SIGHUP" | "SIGINT" | "SIGTERM"): void {
  if (!interrupt.signal.aborted) {
    // Abort first: writing the message may fail on a terminal that is gone.
    interrupt.abort(new InterruptedError(sig));
    logger.warn(`${sig} received: stopping, and starting again any container this run stopped`);
  } else {
    logger.warn(`still cleaning up; stopping now would leave containers stopped until the next run`);
  }
}

const onHangup = () => onSignal("SIGHUP");

export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGHUP", onHangup);
}

/**
 * While a prompt reads the terminal, a hangup must end the process the default way: with a
 * handler installed, Bun's event loop spins on the dead terminal and never runs it.
 * Nothing has been changed while a prompt waits, so dying there loses nothing.
 */
export async function whileReadingTerminal<T>(read: () => Promise<T>): Promise<T> {
  const had = process.listeners("SIGHUP").includes(onHangup);
  if (had) process.off("SIGHUP", onHangup);
  try {
    return await read();
  } finally {
    if (had) process.on("SIGHUP", onHangup);
  }
}

export function interruptedBy(): InterruptedError | undefined {
  const r: unknown = interrupt.signal.reason;
  return interrupt.signal.aborted && r instanceof InterruptedError ? r : undefined;
}
