/**
 * A WebDAV rclone remote for the screens' and the cron daemon's tests: `rclone serve webdav` on
 * loopback (rclone-remote.ts) and rclone.conf files (mode 0600, a folder each) naming it.
 */
import path from "node:path";
import { tempDir } from "./cli.ts";
import { obscure, startRcloneServer, writeRcloneConf } from "./rclone-remote.ts";

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

export async function startWebdavRemote(opts: { user?: string; password?: string } = {}): Promise<WebdavRemote> {
  // The served folder outlives stop(), for a test to read what arrived; cleanupCliTemp removes it.
  const dir = tempDir("tbtest-dav-");
  const server = await startRcloneServer("webdav", { dir, user: opts.user ?? "tbtest", pass: opts.password });
  const obscured: string[] = [];
  return {
    dir: server.dir,
    port: server.port,
    user: server.user,
    password: server.pass,
    obscured,
    conf(remote, pass = server.pass, mode = 0o600) {
      obscured.push(obscure(pass));
      const file = path.join(tempDir("tbtest-rclone-conf-"), "rclone.conf");
      writeRcloneConf(file, { [remote]: { ...server.section(), pass: obscured.at(-1)! } }, mode);
      return file;
    },
    stop: () => server.stop(),
  };
}
