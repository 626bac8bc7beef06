import { isCancel, text } from "@clack/prompts";
import { interrupt, whileReadingTerminal } from "./interrupt.ts";

export const CONFIRM_WORD = "RESTORE";

/** Typed confirmation: never a single keypress. Anything but the exact word is a no. */
export async function typedConfirmation(message: string): Promise<boolean> {
  const answer = await whileReadingTerminal(() =>
    text({ message: `${message}\n  Type ${CONFIRM_WORD} to go ahead, anything else to abort`, placeholder: "", output: process.stderr, signal: interrupt.signal }),
  );
  return !isCancel(answer) && answer.trim() === CONFIRM_WORD;
}
