/**
 * Child processes for the benchmark: argument arrays only (never a host shell string built from
 * data), every child tracked so an interrupted run can kill what it started before cleaning up.
 */
import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";

const live = new Set<ChildProcess>();

export interface Done {
  code: number;
  stdout: string;
  stderr: string;
  wallMs: number;
}

export interface RunOpts {
  env?: Record<string, string>;
  cwd?: string;
  /** stdin: a file descriptor to read from (e.g. an archive), "pipe" to write it, else nothing. */
  stdin?: number | "pipe";
  /** stdout: "pipe" to capture it, "ignore" for /dev/null, or a file descriptor. */
  stdout?: "pipe" | "ignore" | number;
}

/** Starts a tracked child; `done` resolves when it has exited and its pipes are closed. */
export function start(cmd: string, args: string[], opts: RunOpts = {}): { child: ChildProcess; done: Promise<Done> } {
  const stdio: StdioOptions = [opts.stdin ?? "ignore", opts.stdout ?? "pipe", "pipe"];
  const t0 = performance.now();
  // Own process group: an interrupted run can signal a child together with what it started
  // (GNU time would otherwise die alone and leave tools-backup running).
  const child = spawn(cmd, args, { stdio, env: opts.env ?? process.env, cwd: opts.cwd, detached: true });
  live.add(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on("data", (b: Buffer) => out.push(b));
  child.stderr?.on("data", (b: Buffer) => err.push(b));
  const done = new Promise<Done>((resolve, reject) => {
    child.once("error", (e) => {
      live.delete(child);
      reject(e);
    });
    child.once("close", (code, signal) => {
      live.delete(child);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        wallMs: performance.now() - t0,
      });
    });
  });
  return { child, done };
}

export function run(cmd: string, args: string[], opts: RunOpts = {}): Promise<Done> {
  return start(cmd, args, opts).done;
}

/** Throws with the command's own stderr when `what` failed: a benchmark must not measure a failure. */
export function expectSuccess(what: string, r: Pick<Done, "code" | "stderr">): void {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stderr.trim().slice(-2000)}`);
}

/** Runs and throws when the command fails (expectSuccess). */
export async function ok(cmd: string, args: string[], opts: RunOpts = {}): Promise<Done> {
  const r = await run(cmd, args, opts);
  expectSuccess(`${cmd} ${args.join(" ")}`, r);
  return r;
}

/**
 * On SIGINT/SIGTERM: whatever is still running would otherwise outlive the cleanup. SIGTERM lets
 * tools-backup start the app again before it exits; it gets up to `graceMs` for that.
 */
export async function killAll(graceMs = 15_000): Promise<void> {
  const waiting = [...live].filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of waiting) {
    try {
      process.kill(-c.pid!, "SIGTERM");
    } catch {
      c.kill("SIGTERM");
    }
  }
  const closed = waiting.map(
    (c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("close", () => r()))),
  );
  await Promise.race([Promise.all(closed), Bun.sleep(graceMs)]);
}
