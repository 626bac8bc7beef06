import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { RcCallError } from "./rc-error.ts";
import { commonFlags, envOf, type RcloneTool } from "./run.ts";

/** A running rclone that answers remote-control calls. */
export interface Server {
  child: ChildProcess;
  url: string;
  auth: string;
  /** rclone's last log lines, for when it ends unexpectedly. */
  log: string[];
}

/**
 * Starts `rclone rcat` into memory with --rc, on a loopback port of its choosing, with a password
 * made afresh and given in its environment only. rcat ends when its standard input does: this
 * process holds the other end, so rclone ends with it, even when it is killed. `ended` is called
 * when rclone exits.
 */
export function startServer(tool: RcloneTool, ended: () => void): Promise<Server> {
  const pass = randomBytes(24).toString("base64url");
  const args = ["rcat", ":memory:tools-backup/keeper", "--rc", "--rc-addr", "127.0.0.1:0", "--rc-serve"];
  // Finished jobs stay known long after the slowest look; an encrypted rclone.conf fails, not waits at stdin.
  args.push("--rc-job-expire-duration", "1h", "--ask-password=false", ...commonFlags(tool));
  // The user's own RCLONE_RC_* settings (a base URL, no auth) are for their rclone, not this one.
  const env = Object.fromEntries(Object.entries(envOf(tool)).filter(([k]) => !k.startsWith("RCLONE_RC_")));
  Object.assign(env, { RCLONE_RC_USER: "tools-backup", RCLONE_RC_PASS: pass });
  // Its own process group: a Ctrl-C at the terminal must leave it to clean up after the transfer it stops.
  const child = spawn(tool.bin, args, { env, stdio: ["pipe", "ignore", "pipe"], detached: true });
  child.stdin!.on("error", () => undefined);
  const log: string[] = [];
  const auth = `Basic ${btoa(`tools-backup:${pass}`)}`;
  const timeout = setTimeout(() => child.kill(), tool.timeoutSeconds * 1000);
  return new Promise<Server>((resolve, reject) => {
    child.stderr!.on("data", (b: Buffer) => {
      for (const line of b.toString().split("\n").filter(Boolean)) {
        log.push(line);
        if (log.length > 20) log.shift();
        const m = /Serving remote control on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line);
        if (m) resolve({ child, url: m[1]!, auth, log });
      }
    });
    child.on("error", (e) => reject(new RcCallError(0, `rclone did not start: ${e.message}`)));
    child.on("exit", (code) => {
      ended();
      reject(new RcCallError(0, `rclone ended (exit ${code}): ${log.at(-1) ?? "no message"}`));
    });
  }).finally(() => clearTimeout(timeout));
}
