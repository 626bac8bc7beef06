import { spawn } from "node:child_process";

export interface RcloneTool {
  /** The rclone program, as found on PATH. */
  bin: string;
  /** rclone.conf, when backup.yaml names one; rclone's own default otherwise. */
  config?: string;
  /** Seconds a connection may take, and a transfer may stall. */
  timeoutSeconds: number;
}

/** rclone's environment: ours, with the copy's rclone.conf. Its secrets stay in that file. */
export function envOf(tool: RcloneTool): NodeJS.ProcessEnv {
  return tool.config ? { ...process.env, RCLONE_CONFIG: tool.config } : { ...process.env };
}

/** The flags every rclone gets: our timeout for its connections and idle transfers. */
export function commonFlags(tool: RcloneTool): string[] {
  const t = `${tool.timeoutSeconds}s`;
  return ["--contimeout", t, "--timeout", t, "--low-level-retries", "3"];
}

/** What one short rclone command prints (its arguments an array, never a shell string). */
export function rcloneOutput(tool: RcloneTool, args: string[], signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool.bin, [...args, ...commonFlags(tool)], {
      env: envOf(tool),
      stdio: ["ignore", "pipe", "ignore"],
      signal,
    });
    let stdout = "";
    child.stdout!.on("data", (b: Buffer) => {
      stdout += b.toString();
    });
    child.on("error", (e) => reject(signal.aborted ? signal.reason : e));
    child.on("close", () => resolve(stdout));
  });
}
