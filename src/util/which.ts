import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";

/** The program `cmd` as a shell would run it: a path as it is, else the first executable of that name on PATH. */
export function findOnPath(cmd: string, path = process.env.PATH ?? ""): string | undefined {
  if (cmd.includes("/")) return existsSync(cmd) ? cmd : undefined;
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const full = join(dir, cmd);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}
