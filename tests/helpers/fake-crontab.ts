/**
 * A stand-in `crontab` command (first on PATH) that keeps the table in a file of the test's own,
 * so tests that install the schedule never touch root's real crontab, which other test files
 * (cron.test.ts) use at the same time. And a way to run the installed line the way cron does:
 * the five schedule fields dropped, `\%` turned back into `%`, the rest handed to /bin/sh -c
 * with cron's small environment.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { tempDir } from "./cli.ts";
import { textIfAny } from "./project.ts";

const MARKER = "# tools-backup: scheduled backup";

export interface FakeCrontab {
  /** Variables to run the binary with: PATH starts with the fake crontab's folder. */
  env: Record<string, string>;
  table(): string;
  /** The line after this tool's marker comment, or undefined. */
  line(): string | undefined;
}

export function fakeCrontab(): FakeCrontab {
  const dir = tempDir("tbtest-fakecron-");
  const table = path.join(dir, "table");
  const script = `#!/bin/sh
case "$1" in
  -l) if [ -f '${table}' ]; then cat '${table}'; else echo "no crontab for $(id -un)" >&2; exit 1; fi ;;
  -) cat > '${table}' ;;
  -r) rm -f '${table}' ;;
  *) echo "fake crontab: unsupported $*" >&2; exit 2 ;;
esac
`;
  fs.writeFileSync(path.join(dir, "crontab"), script, { mode: 0o755 });
  const read = () => textIfAny(table) ?? "";
  return {
    env: { PATH: `${dir}:${process.env.PATH ?? "/usr/bin:/bin"}` },
    table: read,
    line() {
      const lines = read().split("\n");
      const i = lines.findIndex((l) => l.startsWith(MARKER));
      return i >= 0 ? lines[i + 1] : undefined;
    },
  };
}

/** Runs a crontab line as cron would, with cron's environment plus `extra`. */
export function runLikeCron(line: string, extra: Record<string, string> = {}, umask = "022") {
  const command = line.replace(/^\s*(\S+\s+){5}/, "");
  if (/(^|[^\\])%/.test(command))
    throw new Error(`unescaped % in the crontab line (cron would cut the command there): ${line}`);
  const env = { HOME: "/root", LOGNAME: "root", SHELL: "/bin/sh", PATH: "/usr/bin:/bin", ...extra };
  const r = spawnSync("/bin/sh", ["-c", `umask ${umask}; ${command.replace(/\\%/g, "%")}`], {
    env,
    cwd: "/root",
    encoding: "utf8",
    timeout: 110_000,
  });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}
