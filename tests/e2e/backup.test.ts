/** `backup` against a real Docker engine; archives are opened with plain tar, never with our code. */
import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  type Compression,
  expectedCounts,
  extract,
  readWithNodeTar,
  sha256,
  snapshot,
  topLevel,
} from "../helpers/archive.ts";
import { cleanupCliTemp, run } from "../helpers/cli.ts";
import {
  checksums,
  cleanupDocker,
  createVolume,
  fillVolume,
  isRunning,
  leftoverHelpers,
  listing,
  runContainer,
  startedAt,
  uniqueName,
} from "../helpers/docker.ts";
import { filesIn, idPattern, makeProject, mode, readJson, stampToDate } from "../helpers/project.ts";

// Plain `bun test FILE` (no --timeout) gives each test 5 s; these drive Docker and need more.
setDefaultTimeout(120_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

const HOST =
  os
    .hostname()
    .replace(/[^A-Za-z0-9.-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "") || "host";
const EXT: Record<Compression, string> = { zstd: ".tar.zst", gzip: ".tar.gz" };

/** Everything a volume can hold that a backup must bring back exactly. */
const TRICKY_TREE = `set -e
mkdir -p a/b/c empty 'dir with space' 'ünïcode dïr'
echo deep > a/b/c/deep.txt
echo accents > 'ünïcode ñame.txt'
echo spaced > 'dir with space/file with space.txt'
echo inner > 'ünïcode dïr/日本語.txt'
echo shared > a/hard1 && ln a/hard1 a/b/hard2
ln -s a/b/c/deep.txt link-to-deep
ln -s ../outside dangling-link
echo secret > owned.txt && chown 1000:1000 owned.txt && chmod 0640 owned.txt
echo run > script.sh && chmod 0755 script.sh
mkdir -p private && chown 1000:1000 private && chmod 0700 private
dd if=/dev/urandom of=big.bin bs=1M count=50 2>/dev/null
touch -d '2021-06-07 08:09:10' a/b/c/deep.txt owned.txt 'ünïcode ñame.txt'
mkfifo a-fifo
L=$(printf '%0120d' 7) && mkdir -p "long/$L/$L" && echo long > "long/$L/$L/$L-name-longer-than-100-bytes.txt"
printf 'b' > 'back\\slash' && printf 't' > "$(printf 'tab\tname')"
touch -d '1970-01-01 00:00:00' epoch
touch -d '2019-01-02 03:04:05' a/b/c a/b empty
`;

function backupOnce(compression: Compression) {
  const svc = uniqueName("svc").replace(/-/g, "");
  const vol = createVolume();
  fillVolume(vol, TRICKY_TREE);
  const p = makeProject({ services: { [svc]: [{ name: vol }] }, config: { compression, services: { [svc]: true } } });
  const t0 = Date.now();
  // UTC+14: a stamp written in local time instead of UTC would fall outside [t0, now].
  const r = run(["backup", svc, ...p.args], { stateHome: p.stateHome, env: { TZ: "Pacific/Kiritimati" } });
  return { svc, vol, p, r, t0 };
}

describe("round trip through plain tar", () => {
  for (const compression of ["zstd", "gzip"] as const) {
    test(`${compression}: name, permissions, and every file back exactly`, () => {
      const { svc, vol, p, r, t0 } = backupOnce(compression);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.code).toBe(0);

      const folder = p.serviceFolder(svc);
      const names = filesIn(folder);
      expect(names).toHaveLength(2);
      const archiveName = names.find((n) => n.endsWith(EXT[compression]))!;
      expect(archiveName).toBeDefined();
      const id = archiveName.slice(0, -EXT[compression].length);
      const m = idPattern(svc, HOST).exec(id);
      expect(m).not.toBeNull();
      const stampTime = stampToDate(m![1]!).getTime();
      expect(stampTime).toBeGreaterThanOrEqual(Math.floor(t0 / 1000) * 1000);
      expect(stampTime).toBeLessThanOrEqual(Date.now());
      expect(names).toContain(`${id}.json`);
      expect(names.some((n) => n.startsWith(".tmp-"))).toBe(false);

      const archive = path.join(folder, archiveName);
      expect(mode(archive)).toBe(0o600);
      expect(mode(path.join(folder, `${id}.json`))).toBe(0o600);
      expect(mode(folder)).toBe(0o700);

      expect(topLevel(archive, compression)).toEqual([vol]);
      const out = extract(archive, compression);
      expect(fs.readdirSync(out)).toEqual([vol]);
      const restored = snapshot(path.join(out, vol));
      const original = snapshot(vol);
      expect(restored.entries).toEqual(original.entries);
      expect(restored.md5).toEqual(original.md5);
      expect(restored.links).toEqual({ "./link-to-deep": "a/b/c/deep.txt", "./dangling-link": "../outside" });
      expect(restored.hardLinks).toEqual([["./a/b/hard2", "./a/hard1"]]);
      const byPath = new Map(restored.entries.map((e) => [e.path, e]));
      expect(byPath.get("./owned.txt")).toMatchObject({
        owner: "1000:1000",
        mode: "640",
        mtime: Date.UTC(2021, 5, 7, 8, 9, 10) / 1000,
      });
      expect(byPath.get("./empty")).toMatchObject({ type: "directory" });
      expect(byPath.get("./big.bin")).toMatchObject({ size: 50 << 20 });
      expect(byPath.get("./ünïcode dïr/日本語.txt")).toBeDefined();
      expect(byPath.get("./a-fifo")).toMatchObject({ type: "fifo" });
      expect(byPath.get("./epoch")).toMatchObject({ mtime: 0 });
      expect(restored.entries.some((e) => e.path.endsWith("-name-longer-than-100-bytes.txt"))).toBe(true);
      expect(leftoverHelpers(svc)).toEqual([]);
    });
  }
});

test("a second tar implementation (node-tar) reads every entry: owner, mode, mtime, content, links", async () => {
  const { svc, vol, p, r } = backupOnce("zstd");
  expect(r.code).toBe(0);
  const archive = path.join(p.serviceFolder(svc), filesIn(p.serviceFolder(svc)).find((n) => n.endsWith(".tar.zst"))!);
  const read = new Map((await readWithNodeTar(archive, vol)).map((e) => [e.path, e]));
  const md5 = checksums(vol);
  const original = listing(vol);
  expect([...read.keys()].sort()).toEqual(original.map((e) => e.path).sort());
  for (const e of original) {
    const got = read.get(e.path)!;
    expect({ path: e.path, owner: got.owner, mode: got.mode, mtime: got.mtime }).toEqual({
      path: e.path,
      owner: e.owner,
      mode: e.mode,
      mtime: e.mtime,
    });
    if (e.type !== "regular file") {
      expect({ path: e.path, type: got.type }).toEqual({ path: e.path, type: e.type });
      continue;
    }
    // A second name of one inode is a hard link to another name of that inode.
    const names = original.filter((o) => o.inode === e.inode).map((o) => o.path);
    if (got.type === "hard link") expect(names.filter((n) => n !== e.path)).toContain(got.link ?? "");
    else
      expect({ path: e.path, size: got.size, md5: got.md5 }).toEqual({ path: e.path, size: e.size, md5: md5[e.path] });
  }
  expect(read.get("./link-to-deep")).toMatchObject({ type: "symbolic link", link: "a/b/c/deep.txt" });
  expect([...read.values()].filter((e) => e.type === "hard link")).toHaveLength(1);
});

test("manifest: every field, and the sha256 of the archive", () => {
  const { svc, vol, p, r } = backupOnce("zstd");
  expect(r.code).toBe(0);
  const folder = p.serviceFolder(svc);
  const json = filesIn(folder).find((n) => n.endsWith(".json"))!;
  const manifest = readJson(path.join(folder, json));
  const archive = path.join(folder, manifest.archive.file);
  const version = run(["--version"]).stdout.split(" ")[0];

  expect(manifest.format).toBe(1);
  expect(manifest.id).toBe(json.slice(0, -5));
  expect(manifest.service).toBe(svc);
  expect(manifest.host).toBe(HOST);
  expect(manifest.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  expect(new Date(manifest.created_at).toISOString()).toBe(manifest.created_at);
  expect(Math.abs(Date.now() - Date.parse(manifest.created_at))).toBeLessThan(120_000);
  const stamp = idPattern(svc, HOST).exec(manifest.id)![1]!;
  expect(Math.floor(Date.parse(manifest.created_at) / 1000) * 1000).toBe(stampToDate(stamp).getTime());
  expect(manifest.kind).toBe("manual");
  expect(manifest.tool_version).toBe(version);
  expect(manifest.volumes).toHaveLength(1);
  expect(manifest.volumes[0]).toMatchObject({ name: vol, ...expectedCounts(vol) });
  expect(manifest.archive).toEqual({
    file: `${manifest.id}.tar.zst`,
    bytes: fs.statSync(archive).size,
    sha256: sha256(archive),
    compression: "zstd",
  });
  expect(Number.isInteger(manifest.duration_ms) && manifest.duration_ms >= 0).toBe(true);
  expect(Number.isInteger(manifest.downtime_ms) && manifest.downtime_ms >= 0).toBe(true);
  expect(manifest.downtime_ms).toBeLessThanOrEqual(manifest.duration_ms);
});

test("a running declared container runs again, a stopped one stays stopped; two volumes, one archive", () => {
  const svc = uniqueName("svc").replace(/-/g, "");
  const [v1, v2] = [createVolume(), createVolume()];
  fillVolume(v1, "echo one > one.txt && mkdir sub && echo x > sub/x");
  fillVolume(v2, "echo two > two.txt");
  const up = runContainer(uniqueName("up"), [v1]);
  const down = runContainer(uniqueName("down"), [v2], { stopped: true });
  const upStarted = startedAt(up);
  const downStarted = startedAt(down);
  const p = makeProject({
    services: {
      [svc]: [
        { name: v1, container: up },
        { name: v2, container: down },
      ],
    },
  });

  const r = run(["backup", svc, ...p.args], { stateHome: p.stateHome });
  expect(r.code).toBe(0);
  expect(isRunning(up)).toBe(true);
  expect(startedAt(up)).not.toBe(upStarted); // it really was stopped for the copy
  expect(isRunning(down)).toBe(false);
  expect(startedAt(down)).toBe(downStarted); // never started, not even briefly

  const folder = p.serviceFolder(svc);
  const archives = filesIn(folder).filter((n) => n.endsWith(".tar.zst"));
  expect(archives).toHaveLength(1);
  const archive = path.join(folder, archives[0]!);
  expect(topLevel(archive, "zstd")).toEqual([v1, v2].sort());
  const out = extract(archive, "zstd");
  expect(fs.readFileSync(path.join(out, v1, "sub/x"), "utf8")).toBe("x\n");
  expect(fs.readFileSync(path.join(out, v2, "two.txt"), "utf8")).toBe("two\n");
  const manifest = readJson(path.join(folder, archives[0]!.replace(/\.tar\.zst$/, ".json")));
  expect(manifest.volumes.map((v: { name: string }) => v.name)).toEqual([v1, v2]);
  expect(manifest.containers_stopped).toEqual([up]);
  expect(manifest.downtime_ms).toBeGreaterThan(0);
  expect(manifest.downtime_ms).toBeLessThanOrEqual(manifest.duration_ms);
});

test("the nightly run: an enabled name with no service and a broken service.yaml fail alone (file:line:col, exit 2); the good service is backed up; status records both", () => {
  const good = uniqueName("good").replace(/-/g, "");
  const typo = uniqueName("typo").replace(/-/g, "");
  const broken = uniqueName("broken").replace(/-/g, "");
  const vol = createVolume();
  fillVolume(vol, "echo ok > ok.txt");
  const p = makeProject({
    services: {
      [good]: [{ name: vol }],
      [broken]: `name: ${broken}\ndata:\n  volumes:\n    - name: x\n      containr: y\n`,
    },
  });
  p.writeConfig(`backup_dir: ${p.backupDir}\nservices:\n  ${good}: true\n  ${typo}: true\n  ${broken}: true\n`);

  const r = run(["backup", "--cron", ...p.args], { stateHome: p.stateHome });
  expect(r.code).toBe(2);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).toContain(`${p.config}:4:3: services.${typo}: unknown service "${typo}"`);
  expect(r.stderr).toMatch(new RegExp(`${broken}: .*services/${broken}/service.yaml:5:7: .*containr`));
  expect(r.stderr).toContain(`2 of 3 backups failed`);
  expect(filesIn(p.serviceFolder(good)).filter((n) => n.endsWith(".tar.zst"))).toHaveLength(1);

  const status = JSON.parse(run(["status", "--json", ...p.args], { stateHome: p.stateHome }).stdout);
  const attempt = (name: string) => status.services.find((s: { service: string }) => s.service === name).last_attempt;
  expect(attempt(good).ok).toBe(true);
  expect(attempt(typo)).toMatchObject({ ok: false, error: expect.stringContaining("unknown service") });
  expect(attempt(broken)).toMatchObject({ ok: false, error: expect.stringContaining("containr") });

  // `services` lists what exists and warns about the name that does not.
  p.writeService(broken, [{ name: vol }]);
  const listed = run(["services", ...p.args], { stateHome: p.stateHome });
  expect(listed.code).toBe(0);
  expect(listed.stderr).toContain(`${p.config}:4:3: services.${typo}: unknown service "${typo}"`);

  // Named on the command line, the same mistake stops the run before anything starts.
  const named = run(["backup", good, typo, ...p.args], { stateHome: p.stateHome });
  expect(named.code).toBe(2);
  expect(filesIn(p.serviceFolder(good)).filter((n) => n.endsWith(".tar.zst"))).toHaveLength(1);
});

test("a missing volume fails its service by name; the other enabled services are still backed up", () => {
  const bad = uniqueName("bad").replace(/-/g, "");
  const good = uniqueName("good").replace(/-/g, "");
  const missing = uniqueName("missing");
  const vol = createVolume();
  fillVolume(vol, "echo ok > ok.txt");
  const p = makeProject({ services: { [bad]: [{ name: missing }], [good]: [{ name: vol }] } });

  const r = run(["backup", ...p.args], { stateHome: p.stateHome });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(missing);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(filesIn(p.serviceFolder(bad)).filter((n) => !n.startsWith("."))).toEqual([]);
  const made = filesIn(p.serviceFolder(good));
  expect(made.filter((n) => n.endsWith(".tar.zst"))).toHaveLength(1);
  const manifest = readJson(path.join(p.serviceFolder(good), made.find((n) => n.endsWith(".json"))!));
  expect(manifest.kind).toBe("manual"); // typed by hand; only --cron makes "scheduled"
});
