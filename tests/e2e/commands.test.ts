/** list, verify, prune and services over real backups. */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, run } from "../helpers/cli.ts";
import { cleanupDocker, createVolume, fillVolume, runContainer, uniqueName } from "../helpers/docker.ts";
import { filesIn, makeProject, type Project, readJson, redateBackup } from "../helpers/project.ts";

setDefaultTimeout(120_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

const svcName = (what: string) => uniqueName(what).replace(/-/g, "");

function backup(p: Project, svc: string, host = "thishost") {
  const r = run(["backup", svc, ...p.args], { stateHome: p.stateHome, env: { TOOLS_BACKUP_HOST: host } });
  expect(r.code).toBe(0);
  const json = filesIn(p.serviceFolder(svc)).filter((n) => n.endsWith(".json") && n.includes(`_${host}.`));
  return json
    .map((n) => n.slice(0, -5))
    .sort()
    .pop()!; // newest id of that host
}

function oneServiceProject() {
  const svc = svcName("cmd");
  const vol = createVolume();
  fillVolume(vol, "mkdir -p d && dd if=/dev/urandom of=d/blob bs=1M count=3 2>/dev/null && echo hi > hello.txt");
  return { svc, vol, p: makeProject({ services: { [svc]: [{ name: vol }] } }) };
}

test("list --json and list: every backup, newest first, with its fields", () => {
  const { svc, vol, p } = oneServiceProject();
  const older = backup(p, svc);
  const newer = backup(p, svc);
  expect(newer).not.toBe(older);

  const r = run(["list", "--json", ...p.args], { stateHome: p.stateHome });
  expect(r.code).toBe(0);
  const rows = JSON.parse(r.stdout);
  expect(rows.map((b: { id: string }) => b.id)).toEqual([newer, older]);
  for (const b of rows) {
    const manifest = readJson(path.join(p.serviceFolder(svc), `${b.id}.json`));
    expect(b).toMatchObject({
      service: svc,
      host: "thishost",
      kind: "manual",
      volumes: [vol],
      created_at: manifest.created_at,
      bytes: manifest.archive.bytes,
    });
    expect(path.isAbsolute(b.file)).toBe(true);
    expect(b.file).toBe(path.join(p.serviceFolder(svc), `${b.id}.tar.zst`));
    expect(fs.statSync(b.file).size).toBe(b.bytes);
  }

  const text = run(["list", ...p.args], { stateHome: p.stateHome });
  expect(text.code).toBe(0);
  expect(text.stdout).toContain(newer);
  expect(text.stdout).toContain(older);
  const only = JSON.parse(run(["list", svc, "--json", ...p.args]).stdout);
  expect(only).toHaveLength(2);
});

test("verify: 0 on good archives; a flipped byte or a truncation -> exit 1 naming the file", () => {
  const { svc, p } = oneServiceProject();
  const a = backup(p, svc);
  const b = backup(p, svc);
  const fileOf = (id: string) => path.join(p.serviceFolder(svc), `${id}.tar.zst`);

  const good = run(["verify", ...p.args], { stateHome: p.stateHome });
  expect(good.stderr).not.toMatch(/^\s+at /m);
  expect(good.code).toBe(0);

  const fd = fs.openSync(fileOf(a), "r+");
  const at = Math.floor(fs.fstatSync(fd).size / 2);
  const byte = Buffer.alloc(1);
  fs.readSync(fd, byte, 0, 1, at);
  byte[0] = byte[0]! ^ 0xff;
  fs.writeSync(fd, byte, 0, 1, at);
  fs.closeSync(fd);

  const flipped = run(["verify", "--json", ...p.args], { stateHome: p.stateHome });
  expect(flipped.code).toBe(1);
  expect(flipped.stderr).toContain(fileOf(a));
  expect(flipped.stderr).not.toContain(`${fileOf(b)}:`);
  const report = JSON.parse(flipped.stdout);
  expect(report.find((x: { id: string }) => x.id === a).ok).toBe(false);
  expect(report.find((x: { id: string }) => x.id === b).ok).toBe(true);
  expect(run(["verify", "--from", b, ...p.args]).code).toBe(0);

  fs.truncateSync(fileOf(b), Math.floor(fs.statSync(fileOf(b)).size / 2));
  const truncated = run(["verify", "--from", b, ...p.args], { stateHome: p.stateHome });
  expect(truncated.code).toBe(1);
  expect(truncated.stderr).toContain(fileOf(b));
  expect(truncated.stderr).not.toMatch(/^\s+at /m);
});

test("prune: this host's old backups go, the newest stays; foreign files and other hosts' backups survive", () => {
  const { svc, p } = oneServiceProject();
  const folder = p.serviceFolder(svc);
  const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
  const [old, other] = [backup(p, svc), backup(p, svc, "otherhost")].map(
    (id) => redateBackup(path.join(folder, `${id}.json`), threeDaysAgo).id,
  );
  const newest = backup(p, svc);
  const longAgo = new Date("2020-01-01T00:00:00Z");
  const plant = (name: string, dir = folder) => {
    fs.writeFileSync(path.join(dir, name), "not a backup\n");
    fs.utimesSync(path.join(dir, name), longAgo, longAgo);
    return name;
  };
  const foreign = [
    plant("notes.txt"),
    plant(`${svc}_20200101T000000Z_thishost.tar.zst`),
    plant(".tmp-x_20200101T000000Z_otherhost.tar.zst.123"),
  ];
  const staleTemp = plant(`.tmp-${svc}_20200101T000000Z_thishost.tar.zst.4242`);
  const prunes = p.writeConfig({ keep_last: 1, retention_days: 1 }, path.join(p.root, "prune.yaml"));
  const env = { TOOLS_BACKUP_HOST: "thishost" };
  const before = filesIn(folder);

  const dry = run(["prune", "--dry-run", "--json", "--config", prunes], { stateHome: p.stateHome, env });
  expect(dry.stderr).not.toMatch(/^\s+at /m);
  expect(dry.code).toBe(0);
  const plan = JSON.parse(dry.stdout);
  expect(plan.dry_run).toBe(true);
  expect(plan.removed.map((b: { id: string }) => b.id)).toEqual([old]);
  expect(plan.kept.map((b: { id: string }) => b.id).sort()).toEqual([newest, other].sort());
  expect(plan.temp_files).toEqual([path.join(folder, staleTemp)]);
  expect(filesIn(folder)).toEqual(before);

  const real = run(["prune", "--config", prunes], { stateHome: p.stateHome, env });
  expect(real.code).toBe(0);
  const after = filesIn(folder);
  expect(after).not.toContain(`${old}.json`);
  expect(after).not.toContain(`${old}.tar.zst`);
  expect(after).not.toContain(staleTemp);
  for (const keep of [`${newest}.json`, `${newest}.tar.zst`, `${other}.json`, `${other}.tar.zst`, ...foreign])
    expect(after).toContain(keep);

  // From otherhost's point of view, its old backup is the newest it has: kept.
  const fromOther = JSON.parse(
    run(["prune", "--dry-run", "--json", "--config", prunes], { env: { TOOLS_BACKUP_HOST: "otherhost" } }).stdout,
  );
  expect(fromOther.removed).toEqual([]);
});

test("a foreign file at the top of backup_dir (desktop.ini, notes.txt) breaks no command", () => {
  const { svc, p } = oneServiceProject();
  const id = backup(p, svc);
  // Sync clients and people drop files here; their names happen to fit the service-name alphabet.
  for (const name of ["desktop.ini", "notes.txt"]) fs.writeFileSync(path.join(p.backupDir, name), "x\n");
  const failed: string[] = [];
  for (const args of [
    ["list", "--json"],
    ["verify"],
    ["prune", "--dry-run", "--json"],
    ["services", "--json"],
    ["prune"],
    ["backup", svc],
  ]) {
    const r = run([...args, ...p.args], { stateHome: p.stateHome, env: { TOOLS_BACKUP_HOST: "thishost" } });
    if (r.code !== 0) failed.push(`${args.join(" ")} -> ${r.code}: ${r.stderr.trim()}`);
  }
  expect(failed).toEqual([]);
  expect(run(["list", "--json", ...p.args]).stdout).toContain(id);
  expect(filesIn(p.backupDir)).toEqual(["desktop.ini", "notes.txt", svc].sort());
});

test("services --json: enabled, volumes with exists, containers, newest", () => {
  const [alpha, beta, gamma] = [svcName("alpha"), svcName("beta"), svcName("gamma")];
  const vol = createVolume();
  fillVolume(vol, "echo a > a");
  const container = runContainer(uniqueName("alpha-app"), [vol]);
  const missing = uniqueName("missing");
  const p = makeProject({
    services: {
      [alpha]: [{ name: vol, container }],
      [beta]: [{ name: missing, container: "tbtest-nope" }],
      [gamma]: null,
    },
    config: { services: { [alpha]: true, [beta]: false } },
  });
  const id = backup(p, alpha);

  const r = run(["services", "--json", ...p.args], { stateHome: p.stateHome });
  expect(r.code).toBe(0);
  const rows = JSON.parse(r.stdout);
  const by = Object.fromEntries(rows.map((s: { name: string }) => [s.name, s]));
  expect(Object.keys(by).sort()).toEqual([alpha, beta, gamma].sort());
  expect(by[alpha]).toMatchObject({
    enabled: true,
    has_data: true,
    volumes: [{ name: vol, exists: true }],
    containers: [container],
  });
  expect(by[alpha].newest).toMatchObject({
    id,
    host: "thishost",
    bytes: readJson(path.join(p.serviceFolder(alpha), `${id}.json`)).archive.bytes,
  });
  expect(by[beta]).toMatchObject({
    enabled: false,
    has_data: true,
    volumes: [{ name: missing, exists: false }],
    containers: ["tbtest-nope"],
    newest: null,
  });
  expect(by[gamma]).toMatchObject({ enabled: false, has_data: false, volumes: [], containers: [], newest: null });

  const text = run(["services", ...p.args], { stateHome: p.stateHome });
  expect(text.code).toBe(0);
  for (const s of [alpha, beta, gamma]) expect(text.stdout).toContain(s);
  expect(text.stdout).toContain("(missing)");
});

test("list and verify: an unknown SERVICE is a usage error with a suggestion; a removed service's backups stay listable", () => {
  const { svc, p } = oneServiceProject();
  const id = backup(p, svc);
  const files = filesIn(p.serviceFolder(svc));
  const typo = svc.slice(0, -1);
  for (const cmd of [
    ["list", "nosuch"],
    ["list", "nosuch", "--json"],
    ["verify", "nosuch"],
    ["verify", typo, "--json"],
    ["list", typo],
  ]) {
    const r = run([...cmd, ...p.args], { stateHome: p.stateHome });
    expect({ cmd, code: r.code, stdout: r.stdout }).toEqual({ cmd, code: 2, stdout: "" });
    expect(r.stderr).toContain(`unknown service "${cmd[1]}"`);
    if (cmd[1] === typo) expect(r.stderr).toContain(`(did you mean "${svc}"?)`);
  }

  // Backups outlive the service definition they were made from: still found, even by a typo.
  fs.rmSync(path.join(p.root, "services", svc), { recursive: true });
  const listed = run(["list", svc, "--json", ...p.args], { stateHome: p.stateHome });
  expect(listed.code).toBe(0);
  expect(JSON.parse(listed.stdout).map((b: { id: string }) => b.id)).toEqual([id]);
  expect(run(["verify", svc, ...p.args], { stateHome: p.stateHome }).code).toBe(0);
  const typoed = run(["verify", typo, ...p.args], { stateHome: p.stateHome });
  expect(typoed.code).toBe(2);
  expect(typoed.stderr).toContain(`(did you mean "${svc}"?)`);
  expect(filesIn(p.serviceFolder(svc))).toEqual(files);
});
