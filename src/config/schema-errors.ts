/**
 * The schemas' building blocks and the positioned ConfigError each kind of mistake becomes:
 * valibot's issues and our own checks, pointed at the line and column they are about.
 */
import * as v from "valibot";
import { ConfigError } from "./config-error.ts";
import { didYouMean } from "./did-you-mean.ts";
import { type PathKey, positionOf, type YamlSource } from "./yaml-source.ts";

/** `data.volumes[0].name`; odd keys are quoted so dots and control characters stay unambiguous. */
export function formatKeyPath(keys: readonly PathKey[]): string {
  let out = "";
  for (const key of keys) {
    if (typeof key === "number") out += `[${key}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

/** Short, terminal-safe rendering of a value the user wrote. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

export function unknownKeyText(key: string, known: readonly string[]): string {
  const suggestion = didYouMean(key, known);
  return `unknown key ${JSON.stringify(key)}${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`;
}

/** An error at `keys`: "keyPath: text", or just `text` when `bare` (unknown keys show the key itself). */
export function configErrorAt(
  src: YamlSource,
  keys: readonly PathKey[],
  text: string,
  opts: { at?: "key" | "value"; bare?: boolean } = {},
): ConfigError {
  const { line, col } = positionOf(src, keys, opts.at);
  const keyPath = formatKeyPath(keys);
  const full = opts.bare || !keyPath ? text : `${keyPath}: ${text}`;
  return new ConfigError({ file: src.file, line, col, keyPath, text: full });
}

export function mismatch(src: YamlSource, keys: readonly PathKey[], expected: string, found: unknown): ConfigError {
  return configErrorAt(src, keys, `expected ${expected}, found ${describeValue(found)}`);
}

/** Is this a YAML mapping (valibot's object schemas would also accept a list)? */
export function mappingCheck(expected = "a mapping") {
  return v.custom<Record<string, unknown>>(
    (value) => typeof value === "object" && value !== null && !Array.isArray(value),
    expected,
  );
}

/**
 * A mapping with exactly these keys. Issue messages carry our "expected" text (see
 * configErrorFromIssues); for a missing key it is borrowed from that key's schema.
 */
export function strictMapping<const TEntries extends v.ObjectEntries>(entries: TEntries, expected = "a mapping") {
  const known = Object.keys(entries);
  return v.pipe(
    mappingCheck(expected),
    v.strictObject(entries, (issue) => {
      const key = issue.path?.at(-1)?.key;
      if (issue.expected === "never") return unknownKeyText(String(key), known);
      if (typeof key === "string" && issue.path) return expectedOf(entries[key]);
      return expected;
    }),
  );
}

function expectedOf(schema: unknown): string {
  const message = (schema as { message?: unknown } | undefined)?.message;
  return typeof message === "string" ? message : "a value";
}

const isMissingKey = (issue: v.BaseIssue<unknown>) => issue.input === undefined && issue.path?.at(-1)?.origin === "key";

/** The first issue as a positioned ConfigError. */
export function configErrorFromIssues(src: YamlSource, issues: readonly v.BaseIssue<unknown>[]): ConfigError {
  // A typo in a required key is both "missing" and "unknown"; the unknown one has the suggestion.
  const issue = issues.find((i) => !isMissingKey(i)) ?? issues[0];
  if (!issue) throw new Error("configErrorFromIssues: no issues");
  const keys = (issue.path ?? []).map((item) => item.key as PathKey);
  if (issue.type === "strict_object" && issue.expected === "never") {
    const text = issue.message.startsWith("unknown key") ? issue.message : unknownKeyText(String(keys.at(-1)), []);
    return configErrorAt(src, keys, text, { at: "key", bare: true });
  }
  // Our schemas set messages to the expected text; valibot's defaults start with "Invalid ".
  const expected = issue.message.startsWith("Invalid ") ? (issue.expected ?? "a valid value") : issue.message;
  const onKey = issue.path?.at(-1)?.origin === "key" && !isMissingKey(issue);
  const { line, col } = positionOf(src, keys, onKey ? "key" : "value");
  const keyPath = formatKeyPath(keys);
  const text = `${keyPath ? `${keyPath}: ` : ""}expected ${expected}, found ${describeValue(issue.input)}`;
  return new ConfigError({ file: src.file, line, col, keyPath, text });
}
