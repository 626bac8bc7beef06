/** What list and verify make of a backup_dir that is empty, missing, or damaged by hand or by a sync client. */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BIN, binaryEnv, cleanupCliTemp, run, stackLines, tempDir } from "../helpers/cli.ts";
import { cleanupDocker, createVolume, fillVolume, uniqueName } from "../helpers/docker.ts";
import { filesIn, makeProject, readJson } from "../helpers/project.ts";

setDefaultTimeout(120_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

test("backup_dir missing (a drive not mounted) or not a folder: list, verify, prune, restore fail with the reason; services warns; nothing made", () => {
  const p = makeProject({ services: { alpha: [{ name: uniqueName("v") }] } });
  fs.rmdirSync(p.backupDir);
  const cases = [
    {
      reason: `backup_dir ${p.backupDir} does not exist; create it, or check that the drive holding it is mounted`,
      setup: () => {},
    },
    { reason: `backup_dir ${p.backupDir} is not a folder`, setup: () => fs.writeFileSync(p.backupDir, "a file\n") },
  ];
  for (const { reason, setup } of cases) {
    setup();
    const before = fs.existsSync(p.backupDir) ? fs.readFileSync(p.backupDir, "utf8") : null;
    const commands = [
      ["list"],
      ["list", "--json"],
      ["list", "alpha"],
      ["verify"],
      ["verify", "alpha", "--json"],
      ["prune"],
      ["prune", "--dry-run", "--json"],
      ["restore", "alpha", "--yes"],
      ["restore", "alpha", "--dry-run"],
    ];
    for (const cmd of commands) {
      const r = run([...cmd, ...p.args], { stateHome: p.stateHome });
      // Never "no backups": a health check built on verify must fail while the drive is away.
      expect({ cmd, code: r.code, stdout: r.stdout }).toEqual({ cmd, code: 1, stdout: "" });
      expect(r.stderr).toContain(reason);
      expect(r.stderr).not.toContain("no backups");
    }
    // services still shows the services, but not "never" for a backup it could not look for.
    const services = run(["services", "--json", ...p.args], { stateHome: p.stateHome });
    expect(services.code).toBe(0);
    expect(JSON.parse(services.stdout)[0]).toMatchObject({ name: "alpha", newest: null, volumes: [{ exists: false }] });
    expect(services.stderr).toContain(reason);
    const text = run(["services", ...p.args], { stateHome: p.stateHome });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("unknown");
    expect(text.stdout).not.toContain("never");
    expect(text.stderr).toContain(reason);
    expect(fs.existsSync(p.backupDir) ? fs.readFileSync(p.backupDir, "utf8") : null).toBe(before);
  }
});

test("damaged backups: each is named by verify (exit 1); list marks or skips them and still exits 0", () => {
  const svc = uniqueName("dmg").replace(/-/g, "");
  const vol = createVolume();
  fillVolume(vol, "echo a > a && dd if=/dev/urandom of=b bs=1k count=64 2>/dev/null");
  const p = makeProject({ services: { [svc]: [{ name: vol }] } });
  for (let i = 0; i < 4; i++) expect(run(["backup", svc, ...p.args], { stateHome: p.stateHome }).code).toBe(0);
  const folder = p.serviceFolder(svc);
  const ids = filesIn(folder)
    .filter((n) => n.endsWith(".json"))
    .map((n) => n.slice(0, -5))
    .sort();
  expect(ids).toHaveLength(4);
  const [badJson, noArchive, grown, good] = ids as [string, string, string, string];
  const at = (id: string, ext: string) => path.join(folder, id + ext);
  fs.writeFileSync(at(badJson, ".json"), "{broken");
  fs.rmSync(at(noArchive, ".tar.zst"));
  fs.appendFileSync(at(grown, ".tar.zst"), "still downloading");

  const list = run(["list", "--json", ...p.args]);
  expect(list.code).toBe(0);
  const rows = JSON.parse(list.stdout);
  expect(rows.map((b: { id: string }) => b.id).sort()).toEqual([grown, good].sort());
  expect(rows.find((b: { id: string }) => b.id === grown).complete).toBe(false);
  expect(rows.find((b: { id: string }) => b.id === good).complete).toBe(true);
  expect(list.stderr).toContain(at(badJson, ".json"));
  expect(list.stderr).toContain(at(noArchive, ".json"));
  expect(run(["list", ...p.args]).stdout).toContain("incomplete");

  const verify = run(["verify", ...p.args]);
  expect(verify.code).toBe(1);
  for (const f of [at(badJson, ".json"), at(noArchive, ".json"), at(grown, ".tar.zst")])
    expect(verify.stderr).toContain(f);
  expect(verify.stderr).not.toContain(`${at(good, ".tar.zst")}:`);
  expect(verify.stderr).toMatch(/3 backups failed verification/);
  expect(verify.stderr).not.toMatch(/^\s+at /m);

  expect(run(["verify", "--from", good, ...p.args]).code).toBe(0);
  const unknown = run(["verify", "--from", `${svc}_20000101T000000Z_nohost`, ...p.args]);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("no backup with id");
});

test("sync-client copies are not backups; a manifest its file name contradicts is damaged: never listed, chosen or deleted", () => {
  const svc = uniqueName("copy").replace(/-/g, "");
  const vol = createVolume();
  fillVolume(vol, "echo a > a");
  const p = makeProject({
    services: { [svc]: [{ name: vol }] },
    config: { keep_last: 1, retention_days: 1, services: {} },
  });
  const env = { TOOLS_BACKUP_HOST: "hosta" };
  const tb = (...args: string[]) => run([...args, ...p.args], { stateHome: p.stateHome, env });
  for (let i = 0; i < 2; i++) expect(tb("backup", svc).code).toBe(0);
  const folder = p.serviceFolder(svc);
  const [lying, good] = filesIn(folder)
    .filter((n) => n.endsWith(".json"))
    .map((n) => n.slice(0, -5)) as [string, string];
  const at = (name: string) => path.join(folder, name);
  // The older backup's manifest says 2099: trusted, it would be "latest" and outlive every real backup.
  fs.writeFileSync(
    at(`${lying}.json`),
    JSON.stringify({ ...readJson(at(`${lying}.json`)), created_at: "2099-01-01T00:00:00.000Z" }),
  );
  const copies = [
    `${good}.sync-conflict-20261124-132419-ABCDEFG.json`,
    `${good} (conflicted copy).json`,
    `${good} (1).json`,
  ];
  for (const c of copies) fs.copyFileSync(at(`${good}.json`), at(c));
  const before = filesIn(folder);

  const list = tb("list", "--json");
  expect(list.code).toBe(0);
  expect(JSON.parse(list.stdout).map((b: { id: string }) => b.id)).toEqual([good]);
  expect(list.stderr).toContain(
    `${at(`${lying}.json`)}: created_at 2099-01-01T00:00:00.000Z disagrees with the date in its file name`,
  );

  const verify = tb("verify");
  expect(verify.code).toBe(1);
  expect(verify.stderr).toContain("1 backup failed verification");
  expect(verify.stderr).toContain(at(`${lying}.json`));
  expect(verify.stderr).toContain(`${good}: ok`);
  // The copy is at most a note, never a failure.
  expect(
    verify.stderr
      .split("\n")
      .filter((l) => l.includes("sync-conflict"))
      .every((l) => !/error/.test(l)),
  ).toBe(true);
  const one = tb("verify", "--from", good);
  expect({ code: one.code, damaged: one.stderr.includes(lying), copy: one.stderr.includes("sync-conflict") }).toEqual({
    code: 0,
    damaged: false,
    copy: false,
  });
  const damaged = tb("verify", "--from", lying);
  expect(damaged.code).toBe(1);
  expect(damaged.stderr).toContain(at(`${lying}.json`));

  const restore = tb("restore", svc, "--dry-run");
  expect(restore.code).toBe(0);
  expect(restore.stderr).toContain(`dry run: ${good} passed every check`);

  const prune = tb("prune", "--json");
  expect(prune.code).toBe(0);
  expect(JSON.parse(prune.stdout).removed).toEqual([]);
  expect(filesIn(folder)).toEqual(before);
});

test("an archive verify cannot open (another user's, mode 0600): reported as unreadable, exit 1, no stack trace", () => {
  const svc = uniqueName("perm").replace(/-/g, "");
  const vol = createVolume();
  fillVolume(vol, "echo a > a");
  const p = makeProject({ services: { [svc]: [{ name: vol }] } });
  expect(run(["backup", svc, ...p.args], { stateHome: p.stateHome }).code).toBe(0);
  const folder = p.serviceFolder(svc);
  const archive = path.join(folder, filesIn(folder).find((n) => n.endsWith(".tar.zst"))!);
  // As root, run as nobody (archive stays root's, 0600); otherwise take our own read permission away.
  if (asRoot)
    shareWithOthers([
      p.root,
      p.backupDir,
      folder,
      ...filesIn(folder)
        .filter((n) => n.endsWith(".json"))
        .map((n) => path.join(folder, n)),
    ]);
  else fs.chmodSync(archive, 0);
  const r = runAsOtherUser(["verify", ...p.args]);
  expect({ code: r.code, stack: stackLines(r.stderr), bun: r.stderr.includes("Bun v") }).toEqual({
    code: 1,
    stack: [],
    bun: false,
  });
  expect(r.stderr).toContain(`${archive}: unreadable: permission denied`);
  expect(r.stderr).toContain("1 backup failed verification");
});

const asRoot = process.getuid?.() === 0;

/** Readable by everyone: what a shared backup_dir and project look like to the other user. */
function shareWithOthers(paths: string[]): void {
  for (const f of paths) fs.chmodSync(f, fs.statSync(f).isDirectory() ? 0o755 : 0o644);
}

/** The binary as another user: nobody when we are root (root reads everything), else ourselves. */
function runAsOtherUser(args: string[]) {
  const stateHome = tempDir("tbtest-state-nobody-");
  fs.chmodSync(stateHome, 0o777);
  const asUser = asRoot ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", BIN] : [BIN];
  const env = binaryEnv({ stateHome, env: { XDG_CONFIG_HOME: stateHome, HOME: stateHome } });
  const r = spawnSync(asUser[0]!, [...asUser.slice(1), ...args], { env, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("a service folder another user cannot read (root's 0700 in a shared backup_dir): skipped with a warning; asked for by name, exit 1", () => {
  const svc = uniqueName("mine").replace(/-/g, "");
  const vol = createVolume();
  fillVolume(vol, "echo a > a");
  const p = makeProject({ services: { [svc]: [{ name: vol }], solo: [{ name: uniqueName("solo") }] } });
  p.writeConfig({ services: { [svc]: true } });
  expect(run(["backup", svc, ...p.args], { stateHome: p.stateHome }).code).toBe(0);
  const folder = p.serviceFolder(svc);
  const solo = p.serviceFolder("solo");
  fs.mkdirSync(solo);
  fs.writeFileSync(path.join(solo, "x.json"), "{}");
  fs.chmodSync(solo, asRoot ? 0o700 : 0);
  try {
    if (asRoot)
      shareWithOthers([
        p.root,
        p.config,
        path.join(p.root, "services"),
        p.backupDir,
        folder,
        ...filesIn(folder).map((n) => path.join(folder, n)),
      ]);
    const warning = `cannot read ${solo}: permission denied; skipped`;
    for (const cmd of [["list"], ["list", "--json"], ["verify"], ["status"], ["services"], ["prune", "--dry-run"]]) {
      const r = runAsOtherUser([...cmd, ...p.args]);
      // `services` asks Docker about the volumes, which that user may not reach: said, exit 1.
      const noEngine = cmd[0] === "services" && asRoot;
      expect({ cmd, code: r.code, stack: stackLines(r.stderr) }).toEqual({ cmd, code: noEngine ? 1 : 0, stack: [] });
      if (noEngine) expect(r.stderr).toContain("permission denied on the Docker socket");
      expect(r.stderr.split("\n").filter((l) => l.includes(solo))).toEqual([expect.stringContaining(warning)]);
      expect(r.stderr).not.toContain("unexpected error");
    }
    expect(runAsOtherUser(["list", ...p.args]).stdout).toContain(svc);
    for (const cmd of [
      ["list", "solo"],
      ["verify", "solo"],
      ["restore", "solo", "--yes"],
    ]) {
      const r = runAsOtherUser([...cmd, ...p.args]);
      expect({ cmd, code: r.code, stack: stackLines(r.stderr), stdout: r.stdout }).toEqual({
        cmd,
        code: 1,
        stack: [],
        stdout: "",
      });
      expect(r.stderr).toContain(`cannot read ${solo}: permission denied`);
      expect(r.stderr).not.toContain("unexpected error");
    }
  } finally {
    fs.chmodSync(solo, 0o700);
  }
});
