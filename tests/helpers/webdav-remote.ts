/**
 * A real WebDAV server on loopback (`rclone serve webdav` over a temporary folder, with a user and
 * a password) and rclone.conf files (mode 0600) naming it as a remote, for rclone offsite copies.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { tempDir } from "./cli.ts";

export interface WebdavRemote {
  /** The folder the server serves: what the remote holds, read directly. */
  dir: string;
  port: number;
  user: string;
  password: string;
  /** Every obscured password written to an rclone.conf so far: secrets too, never to be shown. */
  obscured: string[];
  /** An rclone.conf (mode 0600, its own folder) with a `[REMOTE]` section for this server and `password`. */
  conf(remote: string, password?: string, mode?: number): string;
  stop(): Promise<void>;
}

/** A port nobody listens on now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function listening(port: number, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return true;
    await Bun.sleep(50);
  }
  return false;
}

/** rclone.conf keeps passwords obscured (`rclone obscure`), not in clear. */
function obscure(password: string): string {
  const r = spawnSync("rclone", ["obscure", password], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`rclone obscure failed: ${r.stderr}`);
  return r.stdout.trim();
}

export async function startWebdavRemote(opts: { user?: string; password?: string } = {}): Promise<WebdavRemote> {
  const user = opts.user ?? "tbtest";
  const password = opts.password ?? "tbtestDavPass0123456789abcXYZ";
  const dir = tempDir("tbtest-dav-");
  const port = await freePort();
  // An empty rclone.conf of its own, so the server never reads the machine's.
  const ownConf = path.join(tempDir("tbtest-davserver-"), "rclone.conf");
  fs.writeFileSync(ownConf, "", { mode: 0o600 });
  const args = ["serve", "webdav", dir, "--addr", `127.0.0.1:${port}`, "--user", user, "--pass", password];
  const child: ChildProcess = spawn("rclone", args, {
    env: { ...process.env, RCLONE_CONFIG: ownConf },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr!.on("data", (b: Buffer) => (log += b.toString()));
  if (!(await listening(port, 15_000))) {
    child.kill();
    throw new Error(`rclone serve webdav did not listen on ${port}: ${log}`);
  }
  const obscured: string[] = [];
  return {
    dir,
    port,
    user,
    password,
    obscured,
    conf(remote, pass = password, mode = 0o600) {
      const file = path.join(tempDir("tbtest-rclone-conf-"), "rclone.conf");
      obscured.push(obscure(pass));
      const lines = ["type = webdav", `url = http://127.0.0.1:${port}`, "vendor = other", `user = ${user}`];
      const text = `[${remote}]\n${lines.join("\n")}\npass = ${obscured.at(-1)}\n`;
      fs.writeFileSync(file, text);
      fs.chmodSync(file, mode);
      return file;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const ended = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await ended;
    },
  };
}
