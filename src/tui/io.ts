import { isCancel, log } from "@clack/prompts";
import { interrupt, whileReadingTerminal } from "../terminal/interrupt.ts";

/**
 * SIGINT/SIGTERM cancel whatever prompt is open, so the screens unwind and the program ends.
 * Every screen writes to stderr, like the typed confirmation and every message: stdout stays
 * for data, and a terminal is "there" when stdin and stderr are (terminal/tty.ts).
 */
export const out = { output: process.stderr, signal: interrupt.signal } as const;

/**
 * A prompt's answer, or undefined when it was cancelled (Esc, Ctrl-C): callers go back one step.
 * While it waits, a closed terminal ends the program (see whileReadingTerminal).
 */
export async function ask<T>(prompt: Promise<T>): Promise<Exclude<T, symbol> | undefined> {
  const answer = await whileReadingTerminal(() => prompt);
  return isCancel(answer) ? undefined : (answer as Exclude<T, symbol>);
}

export const say = {
  info: (m: string) => log.info(m, out),
  success: (m: string) => log.success(m, out),
  warn: (m: string) => log.warn(m, out),
  error: (m: string) => log.error(m, out),
  message: (m: string) => log.message(m, out),
};
