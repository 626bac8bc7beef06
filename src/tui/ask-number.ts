import { text } from "@clack/prompts";
import { ask, out } from "./io.ts";

/** A whole number from min (1 unless given) to max, for retention_days, keep_last and the keep_* rules. */
export async function askWholeNumber(
  message: string,
  initial: number,
  max: number,
  min = 1,
): Promise<number | undefined> {
  const value = await ask(
    text({
      ...out,
      message,
      initialValue: String(initial),
      validate: (v) =>
        /^\s*\d+\s*$/.test(v ?? "") && Number(v) >= min && Number(v) <= max
          ? undefined
          : `a whole number from ${min} to ${max}`,
    }),
  );
  return value === undefined ? undefined : Number(value.trim());
}
