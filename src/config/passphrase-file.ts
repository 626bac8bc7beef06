import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { systemErrorText } from "../util/errors.ts";
import { keyFile } from "./key-file.ts";
import { configErrorAt } from "./schema-errors.ts";
import type { PathKey, YamlSource } from "./yaml-source.ts";

/** encryption.passphrase_file's passphrase: a file only its owner reads, not empty, its last newline dropped. */
export function readPassphrase(
  src: YamlSource,
  value: string,
  env: Record<string, string | undefined>,
  home: string,
): string {
  const keys: PathKey[] = ["encryption", "passphrase_file"];
  let file: string;
  try {
    file = keyFile(value, env, home, path.dirname(src.file));
  } catch (e) {
    throw configErrorAt(src, keys, (e as Error).message);
  }
  let passphrase: string;
  try {
    passphrase = readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch (e) {
    throw configErrorAt(src, keys, `cannot read ${file}: ${systemErrorText(e)}`);
  }
  if (passphrase.trim() === "") throw configErrorAt(src, keys, `${file} is empty: write the passphrase in it`);
  if (statSync(file).size > 4096) throw configErrorAt(src, keys, `${file} is too long to be a passphrase`);
  return passphrase;
}
