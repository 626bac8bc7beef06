/**
 * Shared set-up for the restore, lock/journal and lifecycle end-to-end tests: a service with one
 * volume (and optionally a running `--init` container), the binary run against it with a short
 * stop timeout, `list --json`, and the state files (lock, journal) of that service.
 */
import os from "node:os";
import path from "node:path";
import { type Snapshot, snapshot } from "./archive.ts";
import { type RunResult, run, type Started, start } from "./cli.ts";
import { createVolume, docker, dockerOk, fillVolume, uniqueName } from "./docker.ts";
import { makeProject, type Project, redateBackup, stampToDate } from "./project.ts";

export const HOST =
  os
    .hostname()
    .replace(/[^A-Za-z0-9.-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "") || "host";
/** Every run gets a short `docker stop` timeout: test containers run with --init anyway. */
export const FAST = { TOOLS_BACKUP_STOP_TIMEOUT: "2" };

/** The standard content: an owned, restricted, dated file to modify, and one to keep. */
export const FILL = `set -e
mkdir -p sub
echo original > keep.txt
echo old content > modify.txt
chown 1000:1000 modify.txt && chmod 0640 modify.txt
touch -d '2021-06-07 08:09:10' modify.txt
echo deep > sub/deep.txt
`;

export interface Svc {
  name: string;
  vol: string;
  container?: string;
  p: Project;
}

const apps = new Set<string>();

/**
 * A long-running `--init` container mounting `vols` at /data, /data1...; no network, so it does not
 * depend on the engine's bridge. Removed by `cleanupApps` (call it before cleanupDocker).
 */
export function app(vols: string[], opts: { stopped?: boolean; what?: string } = {}): string {
  const name = uniqueName(opts.what ?? "app");
  apps.add(name);
  dockerOk([
    "run",
    "-d",
    "--init",
    "--network",
    "none",
    "--name",
    name,
    ...vols.flatMap((v, i) => ["-v", `${v}:/data${i === 0 ? "" : i}`]),
    "busybox:stable",
    "sleep",
    "100000",
  ]);
  if (opts.stopped) dockerOk(["stop", "--time", "1", name]);
  return name;
}

export function cleanupApps(): void {
  for (const name of apps) docker(["rm", "--force", name]);
  apps.clear();
}

export const svcName = (what: string) => uniqueName(what).replace(/-/g, "");

export function service(opts: { fill?: string; container?: boolean; what?: string } = {}): Svc {
  const name = svcName(opts.what ?? "rs");
  const vol = createVolume();
  fillVolume(vol, opts.fill ?? FILL);
  const container = opts.container === false ? undefined : app([vol]);
  const p = makeProject({ services: { [name]: [container ? { name: vol, container } : { name: vol }] } });
  return { name, vol, container, p };
}

export type Env = Record<string, string | undefined>;

/** The binary with `--config` of the service's project, its own state folder, FAST stop. */
export function tb(s: Svc, args: string[], env: Env = {}): RunResult {
  return run([...args, ...s.p.args], { stateHome: s.p.stateHome, env: { ...FAST, ...env } });
}

export function tbStart(s: Svc, args: string[], env: Env = {}): Started {
  return start([...args, ...s.p.args], { stateHome: s.p.stateHome, env: { ...FAST, ...env } });
}

export interface Listed {
  id: string;
  service: string;
  created_at: string;
  host: string;
  bytes: number;
  file: string;
  manifest: string;
  volumes: string[];
  kind: string;
  complete: boolean;
}

/** `list SERVICE --json`, newest first. */
export function listed(s: Svc): Listed[] {
  const r = tb(s, ["list", s.name, "--json"]);
  if (r.code !== 0) throw new Error(`list failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Listed[];
}

/** Backs the service up (must succeed) and returns the new backup's listing. */
export function backupOk(s: Svc, env: Env = {}): Listed {
  const before = new Set(listed(s).map((b) => b.id));
  const r = tb(s, ["backup", s.name], env);
  if (r.code !== 0) throw new Error(`backup failed (${r.code}): ${r.stderr}`);
  const made = listed(s).filter((b) => !before.has(b.id));
  if (made.length !== 1) throw new Error(`expected one new backup, found ${made.length}`);
  return made[0]!;
}

/** The volume's full state: metadata of every entry, checksums, links. */
export const state = (vol: string): Snapshot => snapshot(vol);

/** One file of a volume as busybox sees it: content and `uid:gid|mode|mtime`. */
export function fileInfo(vol: string, file: string): { content: string; meta: string } {
  const out = dockerOk([
    "run",
    "--rm",
    "--network",
    "none",
    "-v",
    `${vol}:/d:ro`,
    "-w",
    "/d",
    "busybox:stable",
    "sh",
    "-c",
    'cat "$1"; echo "|||$(stat -c "%u:%g|%a|%Y" "$1")"',
    "sh",
    file,
  ]);
  const i = out.lastIndexOf("|||");
  return { content: out.slice(0, i), meta: out.slice(i + 3).trim() };
}

export function exists(vol: string, file: string): boolean {
  return (
    dockerOk([
      "run",
      "--rm",
      "--network",
      "none",
      "-v",
      `${vol}:/d:ro`,
      "busybox:stable",
      "sh",
      "-c",
      `[ -e "/d/$1" ] && echo yes || echo no`,
      "sh",
      file,
    ]).trim() === "yes"
  );
}

export const lockFile = (s: Svc) => path.join(s.p.stateHome, "tools-backup", "locks", `${s.name}.lock`);
export const journalFile = (s: Svc) => path.join(s.p.stateHome, "tools-backup", "journal", `${s.name}.json`);

/** A pid that no process has right now. */
export function deadPid(): number {
  for (let pid = 999_999; ; pid--) {
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ESRCH") return pid;
    }
  }
}

/** Gives an existing backup another id (and created_at): see redateBackup. */
export function restamp(b: Listed, stamp: string, host = b.host): string {
  return redateBackup(b.manifest, stampToDate(stamp), host).id;
}
