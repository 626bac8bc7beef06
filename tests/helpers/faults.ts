/**
 * Shared pieces of the fault, bad-input and security suites: a seeded pseudo-random generator,
 * tmpfs / read-only mounts (root only; each removed by `unmountAll`), what a backup folder
 * holds, and the invariants every fault test checks afterwards.
 */
import { expect } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { type RunResult, run, stackLines } from "./cli.ts";
import { docker, leftoverHelpers, uniqueName } from "./docker.ts";
import type { Project } from "./project.ts";

export type Env = Record<string, string | undefined>;

export const svcName = (what: string) => uniqueName(what).replace(/-/g, "");

/** mulberry32: the same seed gives the same delays on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const mounted: string[] = [];

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
}

/** `mount -t tmpfs -o OPTIONS tmpfs DIR` (DIR is created). */
export function mountTmpfs(dir: string, options: string): void {
  fs.mkdirSync(dir, { recursive: true });
  sh("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir]);
  mounted.push(dir);
}

/** Makes an existing folder read-only in place (a bind mount of itself, remounted ro); root ignores modes. */
export function makeReadOnly(dir: string): void {
  sh("mount", ["--bind", dir, dir]);
  mounted.push(dir);
  sh("mount", ["-o", "remount,bind,ro", dir]);
}

export function unmountAll(): void {
  for (const dir of mounted.splice(0).reverse()) spawnSync("umount", ["-l", dir]);
}

export interface FolderState {
  archives: string[];
  manifests: string[];
  temps: string[];
  other: string[];
}

/** What a service's backup folder holds, by kind of name. */
export function folderState(dir: string): FolderState {
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  const s: FolderState = { archives: [], manifests: [], temps: [], other: [] };
  for (const n of names) {
    if (n.startsWith(".tmp-")) s.temps.push(n);
    else if (/\.tar\.(zst|gz)$/.test(n)) s.archives.push(n);
    else if (n.endsWith(".json")) s.manifests.push(n);
    else s.other.push(n);
  }
  return s;
}

/** Archives under a final name without their manifest, and manifests without their archive. */
export function orphans(dir: string): string[] {
  const s = folderState(dir);
  const ids = (names: string[], re: RegExp) => new Set(names.map((n) => n.replace(re, "")));
  const a = ids(s.archives, /\.tar\.(zst|gz)$/);
  const m = ids(s.manifests, /\.json$/);
  return [
    ...[...a].filter((id) => !m.has(id)).map((id) => `${id} (archive without manifest)`),
    ...[...m].filter((id) => !a.has(id)).map((id) => `${id} (manifest without archive)`),
  ];
}

export function containerInfo(name: string): { running: boolean; startedAt: string; status: string } {
  const r = docker([
    "container",
    "inspect",
    "--format",
    "{{.State.Running}}|{{.State.StartedAt}}|{{.State.Status}}",
    name,
  ]);
  const [running, startedAt, status] = r.stdout.trim().split("|");
  return { running: running === "true", startedAt: startedAt ?? "", status: status ?? "missing" };
}

export interface Listed {
  id: string;
  service: string;
  host: string;
  kind: string;
  file: string;
  manifest: string;
  bytes: number;
  complete: boolean;
  created_at: string;
  volumes: string[];
}

/** `list [SERVICE] --json` with this project's config; must exit 0. */
export function listJson(p: Project, service?: string, env: Env = {}, stateHome = p.stateHome): Listed[] {
  const r = run(["list", ...(service ? [service] : []), "--json", ...p.args], { stateHome, env });
  if (r.code !== 0) throw new Error(`list failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Listed[];
}

/** A clear failure: the exit code, no stack frames, no "unexpected error", each pattern in stderr. */
export function expectClean(r: RunResult, code: number, ...patterns: (string | RegExp)[]): void {
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code });
  expect(stackLines(r.stderr)).toEqual([]);
  expect(r.stderr).not.toContain("unexpected error");
  for (const p of patterns) expect(r.stderr).toMatch(p);
}

/**
 * After any fault: no temporary file, no archive or manifest without its partner, every listed
 * backup complete, `verify` passes, no helper container, journal and lock of the service gone.
 */
export function expectConsistent(p: Project, service: string, env: Env = {}, stateHome = p.stateHome): Listed[] {
  const folder = p.serviceFolder(service);
  const listed = listJson(p, service, env, stateHome);
  const state = path.join(stateHome, "tools-backup");
  expect({
    temps: folderState(folder).temps,
    orphans: orphans(folder),
    incomplete: listed.filter((b) => !b.complete).map((b) => b.id),
    helpers: leftoverHelpers(service),
    journal: fs.existsSync(path.join(state, "journal", `${service}.json`)),
    lock: fs.existsSync(path.join(state, "locks", `${service}.lock`)),
  }).toEqual({ temps: [], orphans: [], incomplete: [], helpers: [], journal: false, lock: false });
  if (listed.length > 0) {
    const v = run(["verify", service, ...p.args], { stateHome, env });
    expect({ verify: v.code, stderr: v.code === 0 ? "" : v.stderr }).toEqual({ verify: 0, stderr: "" });
  }
  return listed;
}

/** Random, incompressible data of `mib` MiB plus a small text file, written inside busybox. */
export const randomFill = (mib: number, name = "random.bin") =>
  `dd if=/dev/urandom of=${name} bs=1M count=${mib} 2>/dev/null && echo hello > hello.txt`;
