import fs from "node:fs";
import path from "node:path";
import { tempDir } from "./cli.ts";

/**
 * A docker CLI stand-in for TOOLS_BACKUP_DOCKER: runs the shell code `prelude(dir)` (`dir` is its
 * own temporary folder, for markers and logs), then hands the call on to the real docker.
 */
export function dockerStandIn(
  prelude: (dir: string) => string,
  prefix = "tbtest-docker-",
): { bin: string; dir: string } {
  const dir = tempDir(prefix);
  const bin = path.join(dir, "docker");
  fs.writeFileSync(bin, `#!/bin/sh\n${prelude(dir)}\nexec docker "$@"\n`, { mode: 0o755 });
  return { bin, dir };
}
