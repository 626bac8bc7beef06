/**
 * A real OpenSSH server on loopback for the rclone sftp tests: /usr/sbin/sshd (Debian's
 * openssh-server) with its own config, host key and authorized user key in a temporary folder,
 * never the system's. It lets root in by key only and serves SFTP alone (internal-sftp), starting
 * in a temporary folder. A watchdog kills it when this process dies (see spawnGuarded).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, type Guarded, spawnGuarded, waitListening } from "./rclone-remote.ts";

export const SSHD = "/usr/sbin/sshd";

export interface Sshd {
  port: number;
  /** The folder SFTP starts in: a remote path without a leading slash lands here. */
  dir: string;
  user: string;
  /** The user's private key (no passphrase), 0600. */
  keyFile: string;
  /** A known_hosts file that names this server's host key. */
  knownHosts: string;
  /** The private key's base64 body, which no output may show. */
  keySecret: string;
  readonly pid: number;
  /** The rclone.conf section's keys for this server; `extra` overrides. */
  section(extra?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
}

function keygen(file: string, comment: string): void {
  const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

export async function startSshd(): Promise<Sshd> {
  if (!fs.existsSync(SSHD)) throw new Error(`${SSHD} is missing: install openssh-server (.ci/provision.sh does)`);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "tbtest-sshd-"));
  const dir = path.join(home, "served");
  fs.mkdirSync(dir);
  const hostKey = path.join(home, "host_ed25519");
  const keyFile = path.join(home, "user_ed25519");
  keygen(hostKey, "tbtest-host");
  keygen(keyFile, "tbtest-user");
  const authorized = path.join(home, "authorized_keys");
  fs.copyFileSync(`${keyFile}.pub`, authorized);
  // Bun's os.userInfo() may say "unknown"; the account name is what sshd matches.
  const user = spawnSync("id", ["-un"], { encoding: "utf8" }).stdout.trim();
  const port = await freePort();
  const knownHosts = path.join(home, "known_hosts");
  const hostPub = fs.readFileSync(`${hostKey}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  fs.writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostPub}\n`);
  const config = path.join(home, "sshd_config");
  fs.writeFileSync(
    config,
    [
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `PidFile ${path.join(home, "sshd.pid")}`,
      `AuthorizedKeysFile ${authorized}`,
      "PermitRootLogin prohibit-password",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      // The temporary folders are not root's alone as StrictModes wants.
      "StrictModes no",
      `AllowUsers ${user}`,
      "Subsystem sftp internal-sftp",
      `ForceCommand internal-sftp -d ${dir}`,
      "AllowTcpForwarding no",
      "X11Forwarding no",
      "",
    ].join("\n"),
  );
  // sshd checks for its privilege separation folder even with a config of its own.
  fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const child: Guarded = spawnGuarded(SSHD, ["-D", "-e", "-f", config, "-p", String(port)]);
  await waitListening(child, port, "sshd");
  const keySecret = fs
    .readFileSync(keyFile, "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith("-----"))
    .join("");
  let stopped = false;
  return {
    port,
    dir,
    user,
    keyFile,
    knownHosts,
    keySecret,
    get pid() {
      return child.proc.pid ?? 0;
    },
    section(extra = {}) {
      return {
        type: "sftp",
        host: "127.0.0.1",
        port: String(port),
        user,
        key_file: keyFile,
        known_hosts_file: knownHosts,
        shell_type: "none",
        ...extra,
      };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await child.kill();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
