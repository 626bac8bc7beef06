import { isCancel, text } from "@clack/prompts";

export const CONFIRM_WORD = "RESTORE";

/** Typed confirmation: never a single keypress. Anything but the exact word is a no. */
export async function typedConfirmation(message: string): Promise<boolean> {
  const answer = await text({ message: `${message}\n  Type ${CONFIRM_WORD} to go ahead, anything else to abort`, placeholder: "" , output: process.stderr });
  return !isCancel(answer) && answer.trim() === CONFIRM_WORD;
}
