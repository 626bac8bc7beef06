/** Less common situations of `backup`: empty volumes, undeclared users of a volume, odd host names, relative paths. */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { extract, topLevel } from "../helpers/archive.ts";
import { cleanupCliTemp, run } from "../helpers/cli.ts";
import {
  cleanupDocker,
  createVolume,
  docker,
  dockerOk,
  fillVolume,
  IMAGE,
  isRunning,
  runContainer,
  startedAt,
  uniqueName,
} from "../helpers/docker.ts";
import { filesIn, idPattern, makeProject, readJson, redateBackup } from "../helpers/project.ts";

setDefaultTimeout(120_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

const svcName = (what: string) => uniqueName(what).replace(/-/g, "");
const manifests = (dir: string) =>
  filesIn(dir)
    .filter((n) => n.endsWith(".json"))
    .map((n) => readJson(path.join(dir, n)));

test("an empty volume gives a valid archive holding just its folder; verify passes", () => {
  const svc = svcName("empty");
  const vol = createVolume();
  const p = makeProject({ services: { [svc]: [{ name: vol }] } });
  const r = run(["backup", svc, ...p.args], { stateHome: p.stateHome });
  expect(r.code).toBe(0);
  const [m] = manifests(p.serviceFolder(svc));
  expect(m.volumes).toEqual([expect.objectContaining({ name: vol, files: 0, bytes: 0 })]);
  const archive = path.join(p.serviceFolder(svc), m.archive.file);
  expect(topLevel(archive, "zstd")).toEqual([vol]);
  expect(fs.readdirSync(path.join(extract(archive, "zstd"), vol))).toEqual([]);
  expect(run(["verify", ...p.args]).code).toBe(0);
});

test("the helper image missing (a new engine, or pruned): the backup makes it from nothing, pulls nothing", () => {
  const image = "tools-backup-helper:1";
  // --force untags it even while containers of another run still use it.
  docker(["image", "rm", "--force", image]);
  expect(docker(["image", "inspect", image]).code).not.toBe(0);
  const svc = svcName("noimage");
  const vol = createVolume();
  fillVolume(vol, "echo kept > a");
  const p = makeProject({ services: { [svc]: [{ name: vol }] } });
  const r = run(["backup", svc, ...p.args], { stateHome: p.stateHome });
  expect(r.code).toBe(0);
  expect(dockerOk(["image", "inspect", "--format", "{{.Comment}}", image]).trim()).toBe("tools-backup helper (empty)");
  const [m] = manifests(p.serviceFolder(svc));
  expect(
    fs.readFileSync(path.join(extract(path.join(p.serviceFolder(svc), m.archive.file), "zstd"), vol, "a"), "utf8"),
  ).toBe("kept\n");
});

test("an undeclared running container is warned about, recorded, and left running untouched", () => {
  const svc = svcName("undecl");
  const vol = createVolume();
  fillVolume(vol, "echo a > a");
  const other = runContainer(uniqueName("other"), [vol]);
  const before = startedAt(other);
  const ghost = uniqueName("ghost");
  const p = makeProject({ services: { [svc]: [{ name: vol, container: ghost }] } });

  const r = run(["backup", svc, ...p.args], { stateHome: p.stateHome });
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(other);
  expect(r.stderr).toContain(ghost); // the declared container that does not exist
  expect(isRunning(other)).toBe(true);
  expect(startedAt(other)).toBe(before);
  const [m] = manifests(p.serviceFolder(svc));
  expect(m.warnings.some((w: string) => w.includes(other))).toBe(true);
  expect(m.warnings.some((w: string) => w.includes(ghost))).toBe(true);
  expect(m.containers_stopped).toEqual([]);
});

test("TOOLS_BACKUP_HOST with odd characters: a safe file name, and prune still knows its own backups", () => {
  const svc = svcName("host");
  const vol = createVolume();
  fillVolume(vol, "echo a > a");
  const p = makeProject({ services: { [svc]: [{ name: vol }] } });
  const env = { TOOLS_BACKUP_HOST: "Bob's Laptop_1" };
  for (let i = 0; i < 2; i++) expect(run(["backup", svc, ...p.args], { stateHome: p.stateHome, env }).code).toBe(0);
  const folder = p.serviceFolder(svc);
  const ids = filesIn(folder)
    .filter((n) => n.endsWith(".json"))
    .map((n) => n.slice(0, -5));
  expect(ids).toHaveLength(2);
  for (const id of ids) expect(id).toMatch(idPattern(svc, "Bob-s-Laptop-1"));

  const oldest = redateBackup(path.join(folder, `${ids[0]}.json`), new Date("2020-01-01T00:00:00.000Z")).id;
  const cfg = p.writeConfig({ keep_last: 1, retention_days: 1 }, path.join(p.root, "prune.yaml"));
  const plan = JSON.parse(run(["prune", "--dry-run", "--json", "--config", cfg], { env }).stdout);
  expect(plan.removed.map((b: { id: string }) => b.id)).toEqual([oldest]);
  const stranger = JSON.parse(
    run(["prune", "--dry-run", "--json", "--config", cfg], { env: { TOOLS_BACKUP_HOST: "someone-else" } }).stdout,
  );
  expect(stranger.removed).toEqual([]);
});

test("a relative backup_dir is relative to backup.yaml, not to the working folder", () => {
  const svc = svcName("rel");
  const vol = createVolume();
  fillVolume(vol, "echo a > a");
  const p = makeProject({
    services: { [svc]: [{ name: vol }] },
    config: `backup_dir: ./rel-out\nservices:\n  ${svc}: true\n`,
  });
  fs.mkdirSync(path.join(p.root, "rel-out"));
  const elsewhere = fs.mkdtempSync(path.join(p.root, "cwd-"));
  const r = run(["backup", ...p.args], { cwd: elsewhere, stateHome: p.stateHome });
  expect(r.code).toBe(0);
  expect(filesIn(path.join(p.root, "rel-out", svc)).filter((n) => n.endsWith(".tar.zst"))).toHaveLength(1);
  expect(filesIn(elsewhere)).toEqual([]);
});

test("backup --json prints the run on stdout, messages stay on stderr", () => {
  const svc = svcName("json");
  const vol = createVolume();
  fillVolume(vol, "echo a > a");
  const p = makeProject({ services: { [svc]: [{ name: vol }] } });
  const r = run(["backup", svc, "--json", ...p.args], { stateHome: p.stateHome });
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.results).toEqual([
    expect.objectContaining({ service: svc, ok: true, file: expect.stringContaining(p.serviceFolder(svc)) }),
  ]);
  expect(fs.existsSync(out.results[0].file)).toBe(true);
});

test("a service with no data section: backing it up by name fails with exit 1, other services still run", () => {
  const nodata = svcName("nodata");
  const good = svcName("good");
  const vol = createVolume();
  fillVolume(vol, "echo a > a");
  const p = makeProject({ services: { [nodata]: null, [good]: [{ name: vol }] } });
  const r = run(["backup", nodata, good, ...p.args], { stateHome: p.stateHome });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(nodata);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(filesIn(p.serviceFolder(good)).filter((n) => n.endsWith(".tar.zst"))).toHaveLength(1);
});

test("backup_dir missing (a cloud drive not mounted): a clear error, exit 1, nothing created, containers never stopped", () => {
  const svc = svcName("nodir");
  const vol = createVolume();
  const app = runContainer(uniqueName("app"), [vol]);
  const before = startedAt(app);
  const p = makeProject({ services: { [svc]: [{ name: vol, container: app }] } });
  fs.rmdirSync(p.backupDir);
  const r = run(["backup", svc, ...p.args], { stateHome: p.stateHome });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`backup_dir ${p.backupDir} does not exist`);
  expect(fs.existsSync(p.backupDir)).toBe(false);
  expect(startedAt(app)).toBe(before);
  expect(isRunning(app)).toBe(true);
});

test("backup_dir is a file: a clear 'not a folder' error, exit 1, containers never stopped", () => {
  const svc = svcName("notdir");
  const vol = createVolume();
  const app = runContainer(uniqueName("app"), [vol]);
  const before = startedAt(app);
  const p = makeProject({ services: { [svc]: [{ name: vol, container: app }] } });
  fs.rmdirSync(p.backupDir);
  fs.writeFileSync(p.backupDir, "I am a file\n");

  const r = run(["backup", svc, ...p.args], { stateHome: p.stateHome });
  expect(r.code).toBe(1);
  expect(startedAt(app)).toBe(before);
  expect(isRunning(app)).toBe(true);
  expect(r.stderr).toContain(`backup_dir ${p.backupDir} is not a folder`);
  expect(r.stderr).not.toContain("unexpected error");

  const list = run(["list", ...p.args]);
  expect(list.code).not.toBe(0);
  expect(list.stderr).toContain(p.backupDir);
  expect(list.stderr).not.toContain("unexpected error");
});

test("one service's folder in backup_dir is a file: that service fails clearly, the others are still reported", () => {
  const [blocked, good] = [svcName("blocked"), svcName("good")];
  const vol = createVolume();
  fillVolume(vol, "echo a > a");
  const p = makeProject({ services: { [blocked]: [{ name: vol }], [good]: [{ name: vol }] } });
  fs.mkdirSync(p.backupDir, { recursive: true });
  fs.writeFileSync(p.serviceFolder(blocked), "a stray file where the service folder goes\n");

  const r = run(["backup", "--json", ...p.args], { stateHome: p.stateHome });
  expect(r.code).toBe(1);
  expect(filesIn(p.serviceFolder(good)).filter((n) => n.endsWith(".tar.zst"))).toHaveLength(1);
  expect(r.stderr).toContain(`cannot write to ${p.serviceFolder(blocked)}`);
  expect(r.stderr).not.toContain("unexpected error");
  const out = JSON.parse(r.stdout || "null");
  expect(out?.results?.map((x: { service: string; ok: boolean }) => [x.service, x.ok])).toEqual([
    [blocked, false],
    [good, true],
  ]);
});

test("file names with newlines, control characters, leading dashes and 255 bytes survive", () => {
  const svc = svcName("names");
  const vol = createVolume();
  const names: Record<string, string> = {
    "new\nline": "a",
    "--": "b",
    "--help": "c",
    [`${"n".repeat(254)}1`]: "d",
    "\x01ctl\x1b[31m": "e",
    " lead": "f",
    "trail ": "g",
  };
  // Each name is passed as an argument ($1, $2...), so no quoting of odd bytes is needed.
  const script = Object.keys(names)
    .map((_, i) => `printf '%s' '${String.fromCharCode(97 + i)}' > "$${i + 1}"`)
    .join(" && ");
  dockerOk([
    "run",
    "--rm",
    "--network",
    "none",
    "-v",
    `${vol}:/d`,
    "-w",
    "/d",
    IMAGE,
    "sh",
    "-c",
    script,
    "sh",
    ...Object.keys(names),
  ]);
  const p = makeProject({ services: { [svc]: [{ name: vol }] } });
  expect(run(["backup", svc, ...p.args], { stateHome: p.stateHome }).code).toBe(0);
  const folder = p.serviceFolder(svc);
  const archive = path.join(folder, filesIn(folder).find((n) => n.endsWith(".tar.zst"))!);
  const out = path.join(extract(archive, "zstd"), vol);
  expect(fs.readdirSync(out).sort()).toEqual(Object.keys(names).sort());
  for (const [name, content] of Object.entries(names))
    expect(fs.readFileSync(path.join(out, name), "utf8")).toBe(content);
  expect(run(["verify", ...p.args]).code).toBe(0);
});
