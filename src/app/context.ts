import { homedir, hostname } from "node:os";
import { join } from "node:path";
import type { BackupConfig } from "../config/backup-config.ts";
import { UsageError } from "../util/errors.ts";

/** What the core tells whoever drives it; the CLI and the interactive screens render it. */
export interface Reporter {
  step(service: string, message: string): void;
  warn(service: string, message: string): void;
  progress(service: string, bytes: number, elapsedMs: number, of?: ProgressOf): void;
}

/** What a progress count is of: its verb ("read" when not given) and, when known, the total. */
export interface ProgressOf {
  verb?: string;
  total?: number;
  /** The total is a guess (a backup's, from the previous backup of the service). */
  estimate?: boolean;
}

export interface RunContext {
  config: BackupConfig;
  root: string;
  host: string;
  stateDir: string;
  signal: AbortSignal;
  reporter: Reporter;
  /** Seconds `docker stop` waits before it kills a container. */
  stopTimeout: number;
}

/** The machine's name as written into file names; overridable so two "machines" can share a folder in tests. */
export function hostName(env = process.env): string {
  return env.TOOLS_BACKUP_HOST || hostname();
}

/** Locks, journals and run status live per user and machine, never in the (synced) backup_dir. */
export function stateDir(env = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "tools-backup");
}

/**
 * TOOLS_BACKUP_STOP_TIMEOUT, checked when the run is set up: a bad value found at the first
 * `docker stop` would fail the run after work has started. Unset or empty: Docker's default of
 * 10 s, which services that flush slowly need.
 */
export function stopTimeout(env = process.env): number {
  const raw = env.TOOLS_BACKUP_STOP_TIMEOUT;
  if (raw === undefined || raw === "") return 10;
  const seconds = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(seconds)) {
    throw new UsageError(`TOOLS_BACKUP_STOP_TIMEOUT must be a whole number of seconds (got "${raw}")`);
  }
  return seconds;
}

/** How a use case waits for another run's lock, told through the reporter. */
export function lockOptions(ctx: RunContext, service: string, wait: boolean) {
  return {
    wait,
    signal: ctx.signal,
    onWait: (h: { pid: number; command: string }) =>
      ctx.reporter.step(service, `waiting for pid ${h.pid} (${h.command}) to finish`),
  };
}
