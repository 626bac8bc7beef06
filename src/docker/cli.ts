import { type ChildProcess, spawn } from "node:child_process";
import { OperationError } from "../util/errors.ts";

/** The docker CLI honours DOCKER_HOST and contexts, so every engine call goes through it. */
export const DOCKER = process.env.TOOLS_BACKUP_DOCKER ?? "docker";

export interface DockerResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Spawns docker with an argument array, never a shell. The child gets its own process group
 * (detached) so a Ctrl-C on the terminal does not kill a `docker start` we still need to finish.
 */
export function spawnDocker(
  args: string[],
  stdio: ("pipe" | "ignore" | "inherit")[] = ["ignore", "pipe", "pipe"],
): ChildProcess {
  return spawn(DOCKER, args, { stdio, detached: true, env: process.env });
}

export async function docker(args: string[], input?: Uint8Array): Promise<DockerResult> {
  const child = spawnDocker(args, [input ? "pipe" : "ignore", "pipe", "pipe"]);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on("data", (b: Buffer) => out.push(b));
  child.stderr?.on("data", (b: Buffer) => err.push(b));
  if (input) child.stdin?.end(input);
  const code = await exitOf(child);
  return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code };
}

/** Runs docker and throws a user-readable OperationError when it fails. */
export async function dockerOk(args: string[], what: string, input?: Uint8Array): Promise<string> {
  const r = await docker(args, input);
  if (r.code !== 0) throw dockerError(what, r.stderr);
  return r.stdout;
}

export function exitOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once("error", (e: NodeJS.ErrnoException) => reject(e.code === "ENOENT" ? missingCli() : e));
    child.once("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function missingCli(): OperationError {
  return new OperationError(
    `the docker CLI was not found (looked for "${DOCKER}" on PATH); install Docker or set PATH`,
  );
}

/** The CLI's lines worth showing: its "Run 'docker run --help'" says nothing of the cause. */
function causeLines(stderr: string): string[] {
  return stderr
    .trim()
    .split("\n")
    .filter((l) => l.trim() && !/^(Run|See) 'docker .*--help'/.test(l));
}

const UNREACHABLE = /Cannot connect to the Docker daemon|error during connect|Is the docker daemon running/i;

/**
 * What to say when the engine cannot be reached at all, or undefined when that is not the failure.
 * The CLI's own "Is the docker daemon running?" is dropped, so that the question is asked once.
 */
export function unreachableText(stderr: string): string | undefined {
  if (!UNREACHABLE.test(stderr)) return undefined;
  const at = /Cannot connect to the Docker daemon at (\S+?)\.?(?:\s|$)/i.exec(stderr)?.[1];
  if (at) return `cannot reach the Docker engine at ${at}; is it running?`;
  const cause = causeLines(stderr)
    .join("; ")
    .replace(/(Error( response from daemon)?|error during connect):\s*/gi, "");
  return `cannot reach the Docker engine (${cause.replace(/\s*Is the docker daemon running\?/i, "")}); is it running?`;
}

/** Turns the daemon's stderr into one line a user can act on. */
export function dockerError(what: string, stderr: string): OperationError {
  const unreachable = unreachableText(stderr);
  if (unreachable) return new OperationError(`${what}: ${unreachable}`);
  if (/permission denied.*docker\.sock|permission denied while trying to connect/i.test(stderr)) {
    return new OperationError(`${what}: permission denied on the Docker socket; run as a user in the docker group`);
  }
  // `docker start` puts the cause on the line before its summary: keep both.
  const text = causeLines(stderr)
    .slice(-2)
    .join("; ")
    .replace(/Error( response from daemon)?:\s*/gi, "");
  return new OperationError(`${what}: ${text || "unknown error"}`);
}
