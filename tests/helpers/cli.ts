/**
 * Runs the COMPILED binary (dist/tools-backup) the way cron would: no TTY, NO_COLOR=1,
 * its own XDG_STATE_HOME and XDG_CONFIG_HOME, nothing inherited that could pick another config.
 * Build it first: `npx bun scripts/build.ts`.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const REPO = path.resolve(import.meta.dir, "..", "..");
export const BIN = path.join(REPO, "dist", "tools-backup");

export interface RunOptions {
  cwd?: string;
  /** Extra variables; a value of undefined removes the variable. */
  env?: Record<string, string | undefined>;
  input?: string;
  /** XDG_STATE_HOME to use; a fresh temporary folder when not given. */
  stateHome?: string;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const made: string[] = [];

/** A temporary folder removed by `cleanupCliTemp` (call it in afterAll). */
export function tempDir(prefix = "tbtest-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function cleanupCliTemp(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export function binaryEnv(opts: RunOptions = {}): Record<string, string> {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npx bun scripts/build.ts\` first`);
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of [
    "TOOLS_BACKUP_CONFIG",
    "TOOLS_ROOT",
    "TOOLS_BACKUP_HOST",
    "TOOLS_BACKUP_DOCKER",
    "CI",
    "FORCE_COLOR",
  ])
    delete env[k];
  Object.assign(env, {
    NO_COLOR: "1",
    TERM: "dumb",
    XDG_STATE_HOME: opts.stateHome ?? tempDir("tbtest-state-"),
    XDG_CONFIG_HOME: tempDir("tbtest-xdgconfig-"),
    TOOLS_BACKUP_STOP_TIMEOUT: "5",
  });
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env as Record<string, string>;
}

export function run(args: string[], opts: RunOptions = {}): RunResult {
  const r = spawnSync(BIN, args, {
    cwd: opts.cwd ?? os.tmpdir(),
    env: binaryEnv(opts),
    input: opts.input ?? "",
    encoding: "utf8",
    maxBuffer: 64 << 20,
    timeout: 110_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export interface Started {
  child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  done: Promise<RunResult>;
}

/** Starts the binary without waiting, for tests that signal it mid-run. */
export function start(args: string[], opts: RunOptions = {}): Started {
  const child = spawn(BIN, args, {
    cwd: opts.cwd ?? os.tmpdir(),
    env: binaryEnv(opts),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const done = new Promise<RunResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  return { child, stderr: () => err, done };
}

/** Output lines that look like a JavaScript stack frame. */
export function stackLines(text: string): string[] {
  return text.split("\n").filter((l) => /^\s+at /.test(l));
}

export async function waitFor(check: () => boolean, timeoutMs: number, stepMs = 10): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await Bun.sleep(stepMs);
  }
  return check();
}
