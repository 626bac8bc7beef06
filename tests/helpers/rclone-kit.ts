/**
 * Shared set-up for the rclone offsite tests: a real remote on loopback (rclone serve webdav or
 * sftp, or a real sshd) with its rclone.conf section, backup.yaml entries `url: rclone:REMOTE:PATH`
 * with `rclone_config:`, and the binary run with every secret of the remote checked absent from
 * its output. The files land in the served folder, read back from the server's side.
 */
import { afterAll, afterEach, expect } from "bun:test";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, type RunOptions, type RunResult, start } from "./cli.ts";
import { cleanupDocker } from "./docker.ts";
import type { Project } from "./project.ts";
import { obscure, type RcloneServer, startRcloneServer, writeRcloneConf } from "./rclone-remote.ts";
import { FAST } from "./restore-kit.ts";
import { type Sshd, startSshd } from "./sshd.ts";

export type RemoteKind = "webdav" | "serve-sftp" | "sshd";

/** A running remote as the tests use it, whatever serves it. */
export interface Remote {
  kind: RemoteKind;
  /** The folder the remote's root is: what lands on the server. */
  dir: string;
  /** rclone.conf keys of a section reaching it. */
  section(extra?: Record<string, string>): Record<string, string>;
  /** Texts no output may hold: the password, its obscured form, the private key. */
  secrets: string[];
  /** The rclone serve process, for the tests that kill it or start it read-only (absent for sshd). */
  server?: RcloneServer;
  sshd?: Sshd;
  stop(): Promise<void>;
}

/**
 * The remotes a test file starts, each stopped after the test that started it (push it here), with
 * the test's volumes and containers; the temporary folders after the file.
 */
export function useRemotes(): Remote[] {
  const remotes: Remote[] = [];
  afterEach(async () => {
    cleanupDocker();
    for (const r of remotes.splice(0)) await r.stop();
  });
  afterAll(cleanupCliTemp);
  return remotes;
}

export async function startRemote(kind: RemoteKind, opts: { readOnly?: boolean } = {}): Promise<Remote> {
  if (kind === "sshd") {
    const sshd = await startSshd();
    // Each line of the private key, as a log would show the file.
    const secrets = fs
      .readFileSync(sshd.keyFile, "utf8")
      .split("\n")
      .filter((l) => l !== "" && !l.startsWith("-----"));
    return { kind, dir: sshd.dir, section: sshd.section, secrets, sshd, stop: sshd.stop };
  }
  const server = await startRcloneServer(kind === "webdav" ? "webdav" : "sftp", opts);
  const section = (extra?: Record<string, string>) => server.section(extra);
  return { kind, dir: server.dir, section, secrets: [server.pass, obscure(server.pass)], server, stop: server.stop };
}

/** An rclone.conf next to the project (0600) with these remotes' sections. */
export function confFor(p: Project, sections: Record<string, Record<string, string>>, name = "rclone.conf"): string {
  return writeRcloneConf(path.join(p.root, name), sections);
}

/** An `offsite:` entry for an rclone remote: rclone:REMOTE:PATH with its rclone.conf. */
export function rcloneEntry(
  name: string,
  remote: string,
  folder: string,
  conf: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { name, url: `rclone:${remote}:${folder}`, rclone_config: conf, ...extra };
}

export function expectNoSecrets(secrets: string[], r: RunResult): void {
  for (const s of secrets) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

/**
 * The binary with `--config` of the project and its own state folder, awaited without blocking
 * this process; no JavaScript stack and no secret in its output.
 */
export async function runIn(
  p: Project,
  secrets: string[],
  args: string[],
  opts: RunOptions = {},
): Promise<RunResult & { pid: number }> {
  const started = start([...args, ...p.args], {
    stateHome: p.stateHome,
    ...opts,
    env: { ...FAST, TOOLS_BACKUP_OFFSITE_TIMEOUT: "10", ...opts.env },
  });
  const r = await started.done;
  expectNoSecrets(secrets, r);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  return { ...r, pid: started.child.pid ?? 0 };
}

export function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}
