import { statSync } from "node:fs";
import { systemErrorText } from "../util/errors.ts";
import { expandPath } from "./expand-path.ts";

/**
 * The credentials file's absolute path (~, $VARIABLES and a path relative to backup.yaml's folder
 * resolved); throws a plain Error when it cannot be read or others may read it.
 */
export function keyFile(value: string, env: Record<string, string | undefined>, home: string, baseDir: string): string {
  const file = expandPath(value, env, home, baseDir);
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (error) {
    throw new Error(`cannot read ${file}: ${systemErrorText(error)}`);
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8);
    throw new Error(`${file} is readable by others (mode ${octal}): chmod 600 ${file}`);
  }
  return file;
}
