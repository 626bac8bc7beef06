/**
 * backup_dir that fills up mid-write, that runs out of room just before the manifest, or that is
 * read-only (root ignores modes, so real read-only mounts). backup_dir missing or a file:
 * backup-edge.test.ts. Each: a clear message, exit 1, containers running, nothing partial kept,
 * the older backup intact; a read-only folder is refused before any container is stopped.
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import { sha256, snapshot } from "../helpers/archive.ts";
import { cleanupCliTemp, run } from "../helpers/cli.ts";
import {
  cleanupDocker,
  createVolume,
  fillVolume,
  leftoverHelpers,
  runContainer,
  uniqueName,
} from "../helpers/docker.ts";
import {
  containerInfo,
  expectClean,
  expectConsistent,
  folderState,
  listJson,
  makeReadOnly,
  mountTmpfs,
  randomFill,
  svcName,
  unmountAll,
} from "../helpers/faults.ts";
import { makeProject } from "../helpers/project.ts";

setDefaultTimeout(180_000);
afterEach(() => {
  unmountAll();
  cleanupDocker();
});
afterAll(cleanupCliTemp);

const ENV = { TOOLS_BACKUP_STOP_TIMEOUT: "1" };

/** A service with one volume and a running `--init` app; backup_dir replaced by `mount`, if given. */
function setup(fill: string, mount?: (dir: string) => void) {
  const svc = svcName("disk");
  const vol = createVolume();
  fillVolume(vol, fill);
  const app = runContainer(uniqueName("app"), [vol]);
  const p = makeProject({ services: { [svc]: [{ name: vol, container: app }] } });
  if (mount) mount(p.backupDir);
  const tb = (args: string[]) => run([...args, ...p.args], { stateHome: p.stateHome, env: ENV });
  return { svc, vol, app, p, tb, folder: p.serviceFolder(svc) };
}

test("backup_dir fills up mid-write (8 MiB tmpfs, 30 MiB random volume): exit 1 'no space', container running, nothing partial, older backup intact", () => {
  const s = setup("echo small > small.txt", (d) => mountTmpfs(d, "size=8m"));
  expect(s.tb(["backup", s.svc]).code).toBe(0);
  const [good] = listJson(s.p, s.svc);
  const goodSha = sha256(good!.file);
  const before = folderState(s.folder);
  fillVolume(s.vol, randomFill(30));

  const r = s.tb(["backup", s.svc]);
  expectClean(r, 1, new RegExp(`${s.svc}: no space left on device writing ${s.folder}/${s.svc}_[^ ]+\\.tar\\.zst`));
  expect(r.stderr).not.toContain("ENOSPC");
  expect(containerInfo(s.app).running).toBe(true);
  expect(folderState(s.folder)).toEqual(before); // no .tmp-, no new archive, no new manifest
  expect(sha256(good!.file)).toBe(goodSha);
  expect(expectConsistent(s.p, s.svc, ENV).map((b) => b.id)).toEqual([good!.id]);
  // The space the failed run took is given back: the next (small) backup fits again.
  fillVolume(s.vol, "rm random.bin");
  expect(s.tb(["backup", s.svc]).code).toBe(0);
});

test("room for the archive but not for its manifest (tmpfs out of inodes): exit 1, no archive left without a manifest", () => {
  // 5 inodes: the root, the service folder, the first backup's two files, the second archive. Not its manifest.
  const s = setup(randomFill(2), (d) => mountTmpfs(d, "size=64m,nr_inodes=5"));
  expect(s.tb(["backup", s.svc]).code).toBe(0);
  const before = folderState(s.folder);
  expect(before.archives.length + before.manifests.length).toBe(2);

  const r = s.tb(["backup", s.svc]);
  expectClean(r, 1, /no space left/i);
  expect(containerInfo(s.app).running).toBe(true);
  // A complete archive with no manifest is never listed and never pruned: it would stay forever.
  expect(folderState(s.folder)).toEqual(before);
  expectConsistent(s.p, s.svc, ENV);
});

test("backup_dir on a read-only mount: refused before any container is stopped; list and prune still work", () => {
  const s = setup("echo a > a.txt", (d) => mountTmpfs(d, "ro,size=1m"));
  const started = containerInfo(s.app).startedAt;
  const r = s.tb(["backup", s.svc]);
  expectClean(r, 1, /cannot write to/, /read-only/i);
  expect(containerInfo(s.app)).toMatchObject({ running: true, startedAt: started });
  expect(leftoverHelpers(s.svc)).toEqual([]);
  expect(fs.readdirSync(s.p.backupDir)).toEqual([]);
  for (const cmd of [["list"], ["prune"], ["verify"]]) expect({ cmd, code: s.tb(cmd).code }).toEqual({ cmd, code: 0 });
});

test("backup_dir made read-only after a backup: backup and a restore with safety backup are refused untouched; --no-safety-backup restores", () => {
  const s = setup("echo original > data.txt");
  expect(s.tb(["backup", s.svc]).code).toBe(0);
  const [b] = listJson(s.p, s.svc);
  fillVolume(s.vol, "echo changed > data.txt && echo new > new.txt");
  const changed = snapshot(s.vol);
  makeReadOnly(s.p.backupDir);
  const started = containerInfo(s.app).startedAt;

  expectClean(s.tb(["backup", s.svc]), 1, /cannot write to/, /read-only/i);
  // The safety backup cannot be written, so the restore must not go ahead without one.
  expectClean(s.tb(["restore", s.svc, "--yes"]), 1, /read-only/i);
  expect(containerInfo(s.app)).toMatchObject({ running: true, startedAt: started });
  expect(snapshot(s.vol)).toEqual(changed);
  expect(s.tb(["verify", s.svc]).code).toBe(0);
  expect(folderState(s.folder).temps).toEqual([]);

  // Restoring FROM a read-only drive is a normal case once the user opts out of the safety backup.
  const r = s.tb(["restore", s.svc, "--yes", "--no-safety-backup", "--from", b!.id]);
  expectClean(r, 0);
  expect(containerInfo(s.app).running).toBe(true);
  const out = snapshot(s.vol);
  expect(Object.keys(out.md5).sort()).toEqual(["./data.txt"]);
});
