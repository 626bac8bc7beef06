/** One answer of the offsite questions, asked and judged as the loader would judge it. */
import { homedir } from "node:os";
import { text } from "@clack/prompts";
import { keyFile } from "../config/key-file.ts";
import { fieldProblem, type OffsiteKey } from "../config/offsite-config.ts";
import { messageOf } from "../util/errors.ts";
import { ask, out } from "./io.ts";

/** The answers as the loader would judge them: the schema's rule for the key, then the loader's own check. */
export function check(key: OffsiteKey, value: unknown, more?: (v: string) => string | undefined) {
  return fieldProblem(key, value) ?? (typeof value === "string" ? more?.(value) : undefined);
}

export const optional = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);

/** Asks one line; empty is allowed when `empty` is; validate sees the trimmed answer. */
export async function line(
  message: string,
  initial: string | undefined,
  validate: (v: string) => string | undefined,
  opts: { empty?: boolean; placeholder?: string } = {},
): Promise<string | undefined> {
  const value = await ask(
    text({
      ...out,
      message,
      initialValue: initial ?? "",
      placeholder: opts.placeholder,
      validate: (v) => {
        const t = (v ?? "").trim();
        return t === "" && opts.empty ? undefined : validate(t);
      },
    }),
  );
  return value === undefined ? undefined : value.trim();
}

/** A whole number, or empty for the top-level value; undefined in `value` means "empty". */
export async function ownNumber(
  message: string,
  key: "retention_days" | "keep_last",
  initial: number | undefined,
): Promise<{ value: number | undefined } | undefined> {
  const answer = await line(
    message,
    initial === undefined ? "" : String(initial),
    (v) => (/^\d+$/.test(v) ? fieldProblem(key, Number(v)) : fieldProblem(key, v)),
    { empty: true },
  );
  return answer === undefined ? undefined : { value: answer === "" ? undefined : Number(answer) };
}

/** The loader's verdict on a credentials file: missing, unreadable, or readable by others (with the chmod). */
export function keyFileProblem(value: string, baseDir: string): string | undefined {
  try {
    keyFile(value, process.env, homedir(), baseDir);
    return undefined;
  } catch (e) {
    return messageOf(e);
  }
}
