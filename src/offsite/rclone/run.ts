import { spawn } from "node:child_process";

export interface RcloneTool {
  /** The rclone program, as found on PATH. */
  bin: string;
  /** rclone.conf, when backup.yaml names one; rclone's own default otherwise. */
  config?: string;
  /** Seconds a connection may take, and a transfer may stall. */
  timeoutSeconds: number;
}

export interface RcloneResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** rclone's environment: ours, with the copy's rclone.conf. Its secrets stay in that file. */
function envOf(tool: RcloneTool): NodeJS.ProcessEnv {
  return tool.config ? { ...process.env, RCLONE_CONFIG: tool.config } : { ...process.env };
}

/** The flags every call gets: our timeout for rclone's connections and idle transfers. */
function common(tool: RcloneTool): string[] {
  const t = `${tool.timeoutSeconds}s`;
  return ["--contimeout", t, "--timeout", t, "--low-level-retries", "3"];
}

/**
 * One rclone command, its arguments an array (never a shell string); resolves with its exit code,
 * output and error text. `onStderr` sees each line of its log as it comes (progress).
 */
export function runRclone(
  tool: RcloneTool,
  args: string[],
  opts: { signal: AbortSignal; input?: Uint8Array; onStderr?: (line: string) => void },
): Promise<RcloneResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool.bin, [...args, ...common(tool)], {
      env: envOf(tool),
      stdio: [opts.input ? "pipe" : "ignore", "pipe", "pipe"],
      signal: opts.signal,
    });
    const out: Buffer[] = [];
    let stderr = "";
    let partial = "";
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b: Buffer) => {
      stderr += b.toString();
      const lines = (partial + b.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) opts.onStderr?.(line);
    });
    child.on("error", (e) => reject(opts.signal.aborted ? opts.signal.reason : e));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr }));
    if (opts.input) child.stdin!.end(opts.input);
  });
}

/** `rclone cat`'s output as it comes; fails, after the last piece, when rclone fails. */
export async function* streamRclone(
  tool: RcloneTool,
  args: string[],
  signal: AbortSignal,
  failure: (r: RcloneResult) => Error,
): AsyncIterable<Uint8Array> {
  const child = spawn(tool.bin, [...args, ...common(tool)], {
    env: envOf(tool),
    stdio: ["ignore", "pipe", "pipe"],
    signal,
  });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  const closed = new Promise<number>((resolve, reject) => {
    child.on("error", (e) => reject(signal.aborted ? signal.reason : e));
    child.on("close", (code) => resolve(code ?? 1));
  });
  closed.catch(() => undefined);
  yield* child.stdout! as AsyncIterable<Buffer>;
  const code = await closed;
  if (code !== 0) throw failure({ code, stdout: Buffer.alloc(0), stderr });
}
