/**
 * Real rclone remotes on loopback for the rclone offsite tests: `rclone serve webdav` or
 * `rclone serve sftp` over a temporary folder with a user and password, and rclone.conf files
 * (0600, passwords obscured with `rclone obscure`) naming them. A watchdog shell, fed by a pipe
 * from this process, kills the server when this process dies, so a crashed test runner leaves nothing.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export type ServeKind = "webdav" | "sftp";

export interface ServeOptions {
  /** The served folder; a temporary one (removed by stop) when absent. */
  dir?: string;
  /** 0 or absent: a free port. */
  port?: number;
  user?: string;
  /** A random password when absent. */
  pass?: string;
  readOnly?: boolean;
}

export interface RcloneServer {
  kind: ServeKind;
  dir: string;
  port: number;
  user: string;
  pass: string;
  /** The serve process's id (a new one after start). */
  readonly pid: number;
  /** Whether the serve process runs. */
  readonly running: boolean;
  /** The rclone.conf section's keys for this server, `pass` obscured; `extra` overrides. */
  section(extra?: Record<string, string>): Record<string, string>;
  /** SIGKILLs the serve process (as a crash would) and waits for it to be gone. */
  kill(): Promise<void>;
  /** Starts it again on the same folder and port. */
  start(): Promise<void>;
  /** Ends the server and removes a temporary folder; safe to call twice. */
  stop(): Promise<void>;
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Whether something accepts connections on the loopback port. */
export function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}

/** rclone's reversible obscuring of a password, as rclone.conf wants it. */
export function obscure(pass: string): string {
  const r = spawnSync("rclone", ["obscure", "-"], { input: pass, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`rclone obscure failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** An rclone.conf with these sections (name -> keys), mode 0600 as a secrets file must be (unless a test says). */
export function writeRcloneConf(file: string, sections: Record<string, Record<string, string>>, mode = 0o600): string {
  const lines = (keys: Record<string, string>) => Object.entries(keys).map(([k, v]) => `${k} = ${v}\n`);
  const text = Object.entries(sections)
    .map(([name, keys]) => `[${name}]\n${lines(keys).join("")}`)
    .join("\n");
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode);
  return file;
}

export interface Guarded {
  proc: ChildProcess;
  exited: Promise<void>;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** SIGKILL, then wait for the exit; the watchdog ends too. */
  kill(): Promise<void>;
}

/**
 * Spawns `cmd` with a watchdog: `sh` reading a pipe from us, which kills the process by pid when
 * the pipe closes (this process died). The process itself is spawned directly, so its pid is its own.
 */
export function spawnGuarded(cmd: string, args: string[]): Guarded {
  const proc = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  proc.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const watchdog = spawn("sh", ["-c", 'read _ ; kill -9 "$1" 2>/dev/null', "sh", String(proc.pid)], {
    stdio: ["pipe", "ignore", "ignore"],
  });
  // The watchdog must not keep this process alive, nor the server outlive a normal exit.
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
  const gone = () => proc.exitCode !== null || proc.signalCode !== null;
  return {
    proc,
    exited,
    stderr: () => err,
    async kill() {
      watchdog.kill("SIGKILL");
      if (!gone()) proc.kill("SIGKILL");
      await exited;
    },
  };
}

/** Waits until the port accepts connections, or fails with the process's words. */
export async function waitListening(g: Guarded, port: number, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    if (g.proc.exitCode !== null) throw new Error(`${what} exited before listening: ${g.stderr().trim()}`);
    if (await accepting(port)) return;
    await Bun.sleep(25);
  }
  await g.kill();
  throw new Error(`${what} did not listen on ${port}: ${g.stderr().trim()}`);
}

export async function startRcloneServer(kind: ServeKind, opts: ServeOptions = {}): Promise<RcloneServer> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), `tbtest-${kind}-`));
  const port = opts.port || (await freePort());
  const user = opts.user ?? "tbuser";
  const pass = opts.pass ?? `tbRc-${randomBytes(9).toString("hex")}`;
  const args = ["serve", kind, dir, "--addr", `127.0.0.1:${port}`, "--user", user, "--pass", pass];
  if (opts.readOnly) args.push("--read-only");
  // No rclone.conf of the machine's may change how the server behaves.
  args.push("--config", "/dev/null");
  let child: Guarded | undefined;
  const launch = async () => {
    child = spawnGuarded("rclone", args);
    await waitListening(child, port, `rclone serve ${kind}`);
  };
  await launch();
  let stopped = false;
  const running = () => child !== undefined && child.proc.exitCode === null && child.proc.signalCode === null;
  return {
    kind,
    dir,
    port,
    user,
    pass,
    get pid() {
      return child?.proc.pid ?? 0;
    },
    get running() {
      return running();
    },
    section(extra = {}) {
      const keys: Record<string, string> =
        kind === "webdav"
          ? { type: "webdav", url: `http://127.0.0.1:${port}`, vendor: "other" }
          : { type: "sftp", host: "127.0.0.1", port: String(port), shell_type: "none" };
      return { ...keys, user, pass: obscure(pass), ...extra };
    },
    async kill() {
      await child?.kill();
    },
    async start() {
      if (running()) throw new Error(`rclone serve ${kind} runs already`);
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await child?.kill();
      if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Files under `dir`, recursively, as paths relative to it, sorted. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)))
    .sort();
}
