import { text } from "@clack/prompts";
import { ask, out } from "./io.ts";

/** A whole number from 1 to max, for retention_days and keep_last. */
export async function askWholeNumber(message: string, initial: number, max: number): Promise<number | undefined> {
  const value = await ask(
    text({
      ...out,
      message,
      initialValue: String(initial),
      validate: (v) =>
        /^\s*\d+\s*$/.test(v ?? "") && Number(v) >= 1 && Number(v) <= max
          ? undefined
          : `a whole number from 1 to ${max}`,
    }),
  );
  return value === undefined ? undefined : Number(value.trim());
}
