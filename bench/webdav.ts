/**
 * The loopback WebDAV server of the rclone-remote measurement (`rclone serve webdav` over a folder,
 * with a user and password), the rclone.conf (0600) both clients reach it with, and its CPU time.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { tempDir } from "./docker.ts";
import { processCpuMs } from "./docker-cpu.ts";
import { ok, start } from "./proc.ts";

export interface WebdavServer {
  /** The remote's name in `conf`. */
  remote: string;
  /** An rclone.conf with the remote, mode 0600, as backup.yaml's rclone_config names it. */
  conf: string;
  /** The folder the server serves: removing a subfolder empties the remote's path. */
  dir: string;
  /** User + system CPU milliseconds of the server so far. */
  cpuMs(): number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const connects = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

export async function startWebdav(): Promise<WebdavServer> {
  const dir = tempDir("webdav");
  const home = tempDir("webdav-conf");
  const [user, pass] = ["tbbench", "tbbench-dav-secret"];
  const port = await freePort();
  const empty = path.join(home, "server.conf");
  fs.writeFileSync(empty, "", { mode: 0o600 });
  const args = ["serve", "webdav", dir, "--addr", `127.0.0.1:${port}`, "--user", user, "--pass", pass];
  const { child, done } = start("rclone", args, { env: { ...env(), RCLONE_CONFIG: empty } });
  let exited = false;
  void done.then(() => (exited = true));
  for (let i = 0; i < 300 && !(await connects(port)); i++) {
    if (exited) throw new Error(`rclone serve webdav exited: ${(await done).stderr.trim()}`);
    await Bun.sleep(50);
  }
  const obscured = (await ok("rclone", ["obscure", pass])).stdout.trim();
  const conf = path.join(home, "rclone.conf");
  const lines = ["[dav]", "type = webdav", `url = http://127.0.0.1:${port}`, "vendor = other", `user = ${user}`];
  fs.writeFileSync(conf, `${lines.join("\n")}\npass = ${obscured}\n`, { mode: 0o600 });
  const pid = child.pid!;
  return {
    remote: "dav",
    conf,
    dir,
    cpuMs: () => processCpuMs(pid),
    async stop() {
      child.kill("SIGTERM");
      await done;
    },
  };
}

/** Our environment without a variable that would point rclone at another rclone.conf. */
export function env(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== "RCLONE_CONFIG") out[k] = v;
  return out;
}
