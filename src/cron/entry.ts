import { chmodSync, closeSync, existsSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { DOCKER } from "../docker/cli.ts";
import { selfCommand } from "../system/runtime.ts";
import { OperationError } from "../util/errors.ts";
import { findOnPath } from "../util/which.ts";
import { readCrontab, writeCrontab } from "./crontab-io.ts";
import { findEntry, withEntry, withoutEntry } from "./crontab-text.ts";
import { type CronLine, formatCronLine, parseCronLine } from "./line.ts";

/**
 * Cron starts jobs with PATH=/usr/bin:/bin and little else: carry what a backup needs to reach the
 * same engine and name the same host as a run by hand. docs/scheduling.md lists them.
 */
export const CARRIED_ENV = [
  "DOCKER_HOST",
  "DOCKER_CONTEXT",
  "DOCKER_CONFIG",
  "DOCKER_CERT_PATH",
  "DOCKER_TLS_VERIFY",
  "XDG_STATE_HOME",
  "TOOLS_BACKUP_HOST",
  "RCLONE_CONFIG",
];

/** The line names both files explicitly, so the run finds them from cron's working folder. */
export function buildCronLine(
  schedule: string,
  configFile: string,
  root: string,
  logFile: string,
  env = process.env,
  tools: string[] = [],
): CronLine {
  const docker = findOnPath(DOCKER);
  if (!docker)
    throw new OperationError(
      `the docker CLI ("${DOCKER}") is not on PATH; the scheduled backup would not find it either`,
    );
  // Other programs the run calls (rclone) are found where they are found now.
  const found = tools.map((t) => findOnPath(t, env.PATH)).filter((p) => p !== undefined);
  const dirs = [dirname(docker), ...found.map((p) => dirname(p)), "/usr/local/bin", "/usr/bin", "/bin"];
  const path = [...new Set(dirs)].join(":");
  const carried = Object.fromEntries(CARRIED_ENV.flatMap((k) => (env[k] ? [[k, env[k]!]] : [])));
  return {
    schedule,
    env: { PATH: path, ...carried },
    command: [...selfCommand(), "backup", "--cron", "--config", configFile, "--root", root],
    log: logFile,
  };
}

export function installEntry(line: CronLine): { replaced: boolean } {
  // The shell's `>>` would create the log with cron's umask; it holds paths and errors.
  closeSync(openSync(line.log, "a", 0o600));
  chmodSync(line.log, 0o600);
  const current = readCrontab();
  const replaced = findEntry(current) !== undefined;
  writeCrontab(withEntry(current, formatCronLine(line)));
  return { replaced };
}

export function uninstallEntry(): boolean {
  const current = readCrontab();
  if (!findEntry(current)) return false;
  writeCrontab(withoutEntry(current));
  return true;
}

export interface InstalledEntry {
  text: string;
  line: CronLine | undefined;
  /** The program the line starts: a moved or deleted binary is the classic silent failure. */
  executable: string | undefined;
  executableExists: boolean;
}

export function installedEntry(): InstalledEntry | undefined {
  const found = findEntry(readCrontab());
  if (!found) return undefined;
  const line = parseCronLine(found.line);
  const executable = line?.command[0];
  const scriptArg = line?.command.find((w, i) => i > 0 && /\.(ts|js)$/.test(w));
  const exists = Boolean(executable && existsSync(executable) && (!scriptArg || existsSync(scriptArg)));
  return { text: found.line, line, executable, executableExists: exists };
}

/** Said by `cron status` and `status` alike: a line whose program is gone fails every night, silently. */
export function brokenEntryProblem(entry: InstalledEntry): string | undefined {
  if (entry.executableExists) return undefined;
  return (
    `the scheduled line runs ${entry.executable}, which no longer exists: scheduled backups are FAILING; ` +
    "run `tools-backup cron relink` from the binary's new place"
  );
}
