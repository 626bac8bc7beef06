/**
 * Runs the compiled binary on a REAL pseudo-terminal: a detached tmux session on a private
 * socket (-L), fixed size, no user config. Keys are typed with send-keys, the screen is read
 * with capture-pane, and the exit code is written to a file by the shell around the binary.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { BIN, binaryEnv, type RunOptions, tempDir, waitFor } from "./cli.ts";

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Variables handed to the binary inside the pane (everything else is cleared with env -i). */
const PASS = [
  "PATH",
  "HOME",
  "XDG_STATE_HOME",
  "XDG_CONFIG_HOME",
  "TOOLS_BACKUP_STOP_TIMEOUT",
  "NO_COLOR",
  "DOCKER_HOST",
  "DOCKER_CONFIG",
  "DOCKER_CONTEXT",
];

export interface Pty {
  /** The pane's text, scroll-back included, lines joined. */
  screen(): string;
  /** Types text literally (no key names), without Enter. */
  type(text: string): void;
  key(name: string): void;
  waitForScreen(pattern: RegExp, timeoutMs: number): Promise<boolean>;
  /** The binary's exit code, or undefined when it has not ended within the time. */
  exitCode(timeoutMs: number): Promise<number | undefined>;
  close(): void;
}

function tmux(socket: string, args: string[]): string {
  const r = spawnSync("tmux", ["-L", socket, "-f", "/dev/null", ...args], { encoding: "utf8", timeout: 20_000 });
  if (r.status !== 0) throw new Error(`tmux ${args[0]} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export function startInPty(args: string[], opts: RunOptions = {}, columns = 200): Pty {
  const socket = `tbtest-${randomBytes(4).toString("hex")}`;
  const codeFile = path.join(tempDir("tbtest-pty-"), "code");
  const env: Record<string, string> = { ...binaryEnv(opts), TERM: "xterm-256color" };
  const names = [...new Set([...PASS, "TERM", ...Object.keys(opts.env ?? {})])].filter((k) => env[k] !== undefined);
  const assignments = names.map((k) => `${k}=${quote(env[k]!)}`).join(" ");
  const cwd = opts.cwd ?? tempDir("tbtest-pty-cwd-");
  const command = `cd ${quote(cwd)} && env -i ${assignments} ${quote(BIN)} ${args.map(quote).join(" ")}; echo $? > ${quote(codeFile)}; sleep 600`;
  tmux(socket, ["new-session", "-d", "-s", "t", "-x", String(columns), "-y", "60", command]);

  const screen = () => tmux(socket, ["capture-pane", "-p", "-J", "-t", "t", "-S", "-500"]);
  return {
    screen,
    type: (text) => void tmux(socket, ["send-keys", "-t", "t", "-l", text]),
    key: (name) => void tmux(socket, ["send-keys", "-t", "t", name]),
    waitForScreen: (pattern, timeoutMs) => waitFor(() => pattern.test(screen()), timeoutMs, 100),
    async exitCode(timeoutMs) {
      const done = () => fs.existsSync(codeFile) && fs.readFileSync(codeFile, "utf8").trim() !== "";
      if (!(await waitFor(done, timeoutMs, 100))) return undefined;
      return Number(fs.readFileSync(codeFile, "utf8").trim());
    },
    close() {
      spawnSync("tmux", ["-L", socket, "kill-server"], { timeout: 20_000 });
      // The server leaves its socket file behind.
      fs.rmSync(path.join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${process.getuid?.() ?? 0}`, socket), {
        force: true,
      });
    },
  };
}
