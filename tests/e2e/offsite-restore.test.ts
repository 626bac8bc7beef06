/**
 * `restore` from an offsite copy against the real engine and a real S3 server: a new machine with
 * only backup.yaml, the key file and services/, `--offsite NAME`, and damaged copies.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { RunResult } from "../helpers/cli.ts";
import { checksums, docker, fillVolume, isRunning, startedAt, volumeExists } from "../helpers/docker.ts";
import { BUCKET, copyEntry, expectNoSecret, keyFile, useS3Server } from "../helpers/offsite-kit.ts";
import { filesIn, makeProject, mode, readJson } from "../helpers/project.ts";
import { FILL, type Listed, type Svc, service, state, tb } from "../helpers/restore-kit.ts";
import type { RcloneClient } from "../helpers/s3-client.ts";
import type { S3Server } from "../helpers/s3-server.ts";

setDefaultTimeout(150_000);

let server: S3Server;
let s3: RcloneClient;
useS3Server((started, client) => {
  server = started;
  s3 = client;
});

/** The standard content and a few hundred KiB of random bytes, so a wrong byte anywhere shows. */
const CONTENT = `${FILL}dd if=/dev/urandom of=random.bin bs=64k count=6 2>/dev/null\n`;

let prefixes = 0;
const newPrefix = () => `restore${++prefixes}-${randomBytes(3).toString("hex")}`;

/** The binary for this service's project; no run may show the secret key. */
function tbx(s: Svc, args: string[]): RunResult {
  const r = tb(s, args);
  expectNoSecret(server, r);
  return r;
}

/** backup.yaml of `s` with these copies (name -> prefix) and the service enabled. */
function withCopies(s: Svc, copies: [string, string][], extra: Record<string, unknown> = {}): void {
  const keys = keyFile(s.p.root, server);
  s.p.writeConfig({
    services: { [s.name]: true },
    offsite: copies.map(([name, prefix]) => copyEntry(server, name, prefix, keys)),
    ...extra,
  });
}

/**
 * The same service on a new machine: a fresh project folder with services/, backup.yaml and the
 * key file only, its backup_dir empty (or missing), its own state folder.
 */
function newMachine(s: Svc, copies: [string, string][], opts: { container?: boolean } = {}): Svc {
  const container = opts.container === false ? undefined : s.container;
  const p = makeProject({ services: { [s.name]: [container ? { name: s.vol, container } : { name: s.vol }] } });
  const there: Svc = { ...s, container, p };
  withCopies(there, copies);
  return there;
}

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** A backup with its uploads (no secret shown); returns it as `list --json` shows it. */
function backupOk(s: Svc): Listed & { locations: string[] } {
  const r = tbx(s, ["backup", s.name]);
  if (r.code !== 0) throw new Error(`backup failed (${r.code}): ${r.stderr}`);
  return listedThere(s)[0]!;
}

function listedThere(s: Svc): (Listed & { locations: string[] })[] {
  const r = tbx(s, ["list", s.name, "--json"]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

/** Replaces an object with other bytes of the same size: listed as whole, its sha256 wrong. */
async function damage(key: string, bytes: number): Promise<void> {
  await s3.putString(BUCKET, key, randomBytes(bytes));
}

test("a new machine with an empty backup_dir restores from the copy byte-exact and keeps the files", () => {
  const s = service({ fill: CONTENT });
  const prefix = newPrefix();
  withCopies(s, [["b2", prefix]]);
  const b = backupOk(s);
  const sums = checksums(s.vol);
  const before = state(s.vol);
  fillVolume(s.vol, "echo changed > keep.txt && rm -r sub && echo new > new.txt && rm random.bin");
  expect(checksums(s.vol)).not.toEqual(sums);

  const m = newMachine(s, [["b2", prefix]]);
  expect(filesIn(m.p.backupDir)).toEqual([]);
  const r = tbx(m, ["restore", s.name, "--yes"]);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`b2: fetched ${b.id}`);
  expect(r.stderr).toContain("sha256 checked");
  expect(r.stderr).toContain(`${s.name} restored from ${b.id}`);

  expect(checksums(s.vol)).toEqual(sums);
  expect(state(s.vol)).toEqual(before);
  expect(isRunning(s.container!)).toBe(true);

  // The fetched backup is a backup of this machine's backup_dir now: private, and equal to the original.
  const folder = m.p.serviceFolder(s.name);
  const archive = path.join(folder, path.basename(b.file));
  const manifest = path.join(folder, `${b.id}.json`);
  expect(mode(folder)).toBe(0o700);
  expect(mode(archive)).toBe(0o600);
  expect(mode(manifest)).toBe(0o600);
  expect(sha256(archive)).toBe(sha256(b.file));
  expect(readJson(manifest)).toEqual(readJson(b.manifest));
  expect(filesIn(folder).filter((f) => f.startsWith("."))).toEqual([]);

  const fetched = listedThere(m).find((x) => x.id === b.id)!;
  expect(fetched.locations).toEqual(["local", "b2"]);
  expect(fetched.file).toBe(archive);
  const table = tbx(m, ["list", s.name]);
  expect(table.stdout).toMatch(new RegExp(`^${b.id} .* local,b2\\s*$`, "m"));
});

test("a new machine without backup_dir or the volume: both are made, the volume byte-exact", () => {
  const s = service({ fill: CONTENT, container: false });
  const prefix = newPrefix();
  withCopies(s, [["b2", prefix]]);
  const b = backupOk(s);
  const sums = checksums(s.vol);
  const before = state(s.vol);
  expect(Object.keys(sums).length).toBeGreaterThan(2);
  docker(["volume", "rm", s.vol]); // the name stays recorded for cleanupDocker
  expect(volumeExists(s.vol)).toBe(false);

  const m = newMachine(s, [["b2", prefix]], { container: false });
  fs.rmSync(m.p.backupDir, { recursive: true });
  const r = tbx(m, ["restore", s.name, "--yes"]);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`b2: fetched ${b.id}`);
  expect(r.stderr).toContain("does not exist, will be created");

  expect(volumeExists(s.vol)).toBe(true);
  expect(checksums(s.vol)).toEqual(sums);
  expect(state(s.vol)).toEqual(before);

  expect(mode(m.p.backupDir)).toBe(0o700);
  expect(mode(m.p.serviceFolder(s.name))).toBe(0o700);
  // Nothing to save first: the volume did not exist, so only the fetched backup is there.
  expect(filesIn(m.p.serviceFolder(s.name))).toEqual([path.basename(b.file), `${b.id}.json`].sort());
  for (const f of filesIn(m.p.serviceFolder(s.name))) expect(mode(path.join(m.p.serviceFolder(s.name), f))).toBe(0o600);
  expect(listedThere(m).map((x) => [x.id, x.locations])).toEqual([[b.id, ["local", "b2"]]]);
});

test("restore --offsite NAME downloads from that copy although backup_dir has the backup", () => {
  const s = service({ fill: CONTENT });
  const prefix = newPrefix();
  withCopies(s, [["b2", prefix]]);
  const b = backupOk(s);
  const sums = checksums(s.vol);
  const good = sha256(b.file);
  // backup_dir's archive goes bad (same size): only a download from the copy can restore now.
  const bad = randomBytes(fs.statSync(b.file).size);
  fs.writeFileSync(b.file, bad);
  fillVolume(s.vol, "echo changed > keep.txt && rm random.bin");

  const r = tbx(s, ["restore", s.name, "--offsite", "b2", "--yes"]);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`b2: fetched ${b.id}`);
  expect(checksums(s.vol)).toEqual(sums);
  expect(sha256(b.file)).toBe(good);
  expect(isRunning(s.container!)).toBe(true);
});

test("backup_dir's archive damaged: restore says so, takes the copy's instead, and restores byte-exact", () => {
  const s = service({ fill: CONTENT });
  withCopies(s, [["b2", newPrefix()]]);
  const b = backupOk(s);
  const sums = checksums(s.vol);
  const good = sha256(b.file);
  fs.writeFileSync(b.file, randomBytes(fs.statSync(b.file).size));
  fillVolume(s.vol, "echo changed > keep.txt && rm random.bin");

  const r = tbx(s, ["restore", s.name, "--yes"]);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`${b.file} cannot be restored`);
  expect(r.stderr).toContain("fetching it from b2");
  expect(r.stderr).toContain(`b2: fetched ${b.id}`);
  expect(checksums(s.vol)).toEqual(sums);
  expect(sha256(b.file)).toBe(good);
  expect(isRunning(s.container!)).toBe(true);
});

test("a damaged archive in the copy is refused before anything is touched", async () => {
  const s = service({ fill: CONTENT });
  const prefix = newPrefix();
  withCopies(s, [["b2", prefix]]);
  const b = backupOk(s);
  const localSha = sha256(b.file);
  await damage(`${prefix}/${s.name}/${path.basename(b.file)}`, b.bytes);
  fillVolume(s.vol, "echo changed > keep.txt");
  const before = state(s.vol);
  const started = startedAt(s.container!);

  const r = tbx(s, ["restore", s.name, "--offsite", "b2", "--yes"]);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`b2: cannot fetch ${b.id}`);
  expect(r.stderr).toMatch(/sha256/);
  expect(r.stderr).not.toContain("restored from");

  expect(state(s.vol)).toEqual(before);
  expect(isRunning(s.container!)).toBe(true);
  expect(startedAt(s.container!)).toBe(started); // never stopped
  // backup_dir keeps its own good copy, gets no safety backup and no leftover download.
  expect(sha256(b.file)).toBe(localSha);
  expect(filesIn(s.p.serviceFolder(s.name))).toEqual([path.basename(b.file), `${b.id}.json`].sort());
});

test("two copies, the first damaged: a backup only offsite comes from the second, the first named", async () => {
  const s = service({ fill: CONTENT });
  const [p1, p2] = [newPrefix(), newPrefix()];
  withCopies(s, [
    ["first", p1],
    ["second", p2],
  ]);
  const b = backupOk(s);
  const sums = checksums(s.vol);
  await damage(`${p1}/${s.name}/${path.basename(b.file)}`, b.bytes);
  expect(listedThere(s).find((x) => x.id === b.id)!.locations).toEqual(["local", "first", "second"]);
  // Only offsite from now on.
  fs.rmSync(b.file);
  fs.rmSync(b.manifest);
  fillVolume(s.vol, "echo changed > keep.txt && rm random.bin");

  const r = tbx(s, ["restore", s.name, "--yes"]);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`first: cannot fetch ${b.id}`);
  expect(r.stderr).toContain(`second: fetched ${b.id}`);
  expect(checksums(s.vol)).toEqual(sums);
  expect(isRunning(s.container!)).toBe(true);
  expect(sha256(b.file)).toBe(readJson(b.manifest).archive.sha256);
});

test("an archive cut short in the copy: restore --from says so, exit 1, nothing touched", async () => {
  const s = service({ fill: CONTENT });
  const prefix = newPrefix();
  withCopies(s, [["b2", prefix]]);
  const b = backupOk(s);
  await s3.putString(BUCKET, `${prefix}/${s.name}/${path.basename(b.file)}`, "cut short");
  fillVolume(s.vol, "echo changed > keep.txt");
  const before = state(s.vol);
  const started = startedAt(s.container!);

  // A new machine has only the copy; here it holds the manifest and a shorter archive.
  const m = newMachine(s, [["b2", prefix]]);
  for (const [extra, where] of [
    [[], "every offsite copy that lists it"],
    [["--offsite", "b2"], "offsite copy b2"],
  ] as const) {
    const r = tbx(m, ["restore", s.name, "--from", b.id, "--yes", ...extra]);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).toContain(`${b.id} cannot be fetched: its archive in ${where} differs from its manifest`);
    expect(r.code).toBe(1);
  }
  expect(state(s.vol)).toEqual(before);
  expect(startedAt(s.container!)).toBe(started);
  expect(filesIn(m.p.serviceFolder(s.name))).toEqual([]);
});
