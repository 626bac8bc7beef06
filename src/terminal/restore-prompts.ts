import { isCancel, note, text } from "@clack/prompts";
import { interrupt, whileReadingTerminal } from "./interrupt.ts";
import { logger } from "./log.ts";
import { isTerminal } from "./tty.ts";

export const CONFIRM_WORD = "RESTORE";

/** Typed confirmation: never a single keypress. Anything but the exact word is a no. */
export async function typedConfirmation(message: string): Promise<boolean> {
  const answer = await whileReadingTerminal(() =>
    text({
      message: `${message}\n  Type ${CONFIRM_WORD} to go ahead, anything else to abort`,
      placeholder: "",
      output: process.stderr,
      signal: interrupt.signal,
    }),
  );
  return !isCancel(answer) && answer.trim() === CONFIRM_WORD;
}

/** One look for the command and the wizard: a box on a terminal, plain lines elsewhere. */
export function showRestoreSummary(summary: string): void {
  if (isTerminal()) note(summary, "Restore", { output: process.stderr });
  else logger.log(summary);
}
