/**
 * Retention under pressure: twenty real backups of one service (retention_days 1, keep_last 3)
 * whose manifests are dated into the past. Exactly the expired files go; the newest keep_last
 * always stay, even when expired; pre-restore backups younger than retention_days stay; files of
 * other programs (also ones named like ours but without a usable manifest) never go. Backups
 * dated in the future (a wrong clock) always stay, and no command takes one for the newest.
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, run } from "../helpers/cli.ts";
import { cleanupDocker, createVolume, fillVolume } from "../helpers/docker.ts";
import { expectClean, listJson, svcName } from "../helpers/faults.ts";
import { makeProject, readJson, redateBackup } from "../helpers/project.ts";

setDefaultTimeout(300_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

const HOST = "thishost";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

test("20 backups dated into the past: exactly the expired go, keep_last and young pre-restore stay, foreign files stay", () => {
  const svc = svcName("ret");
  const vol = createVolume();
  fillVolume(vol, "echo tiny > tiny.txt");
  const p = makeProject({
    services: { [svc]: [{ name: vol }] },
    config: { retention_days: 1, keep_last: 3, services: {} },
  });
  const env = { TOOLS_BACKUP_HOST: HOST };
  const tb = (args: string[]) => run([...args, ...p.args], { stateHome: p.stateHome, env });
  for (let i = 0; i < 20; i++) expectClean(tb(["backup", svc]), 0);
  let backups = listJson(p, svc, env); // newest first: index j is the j-th newest
  expect(backups).toHaveLength(20);
  const folder = p.serviceFolder(svc);

  /** Dates the j-th newest backup ageMs(j) into the past (renamed to match); returns the new ids, newest first. */
  const redate = (ageMs: (j: number) => number, kind: (j: number) => string = () => "manual") => {
    backups = backups.map((b, j) => {
      const moved = redateBackup(b.manifest, new Date(Date.now() - ageMs(j)));
      fs.writeFileSync(moved.manifest, JSON.stringify({ ...readJson(moved.manifest), kind: kind(j) }, null, 2));
      return { ...b, ...moved };
    });
    return backups.map((b) => b.id);
  };
  const plan = () => {
    const r = tb(["prune", "--dry-run", "--json"]);
    expectClean(r, 0);
    const out = JSON.parse(r.stdout);
    return {
      removed: out.removed.map((x: { id: string }) => x.id),
      kept: out.kept.map((x: { id: string }) => x.id),
      reasons: out.removed.map((x: { reason: string }) => x.reason),
    };
  };

  // Files of other programs and lookalikes without a usable manifest, all old.
  const old = new Date(Date.now() - 400 * DAY);
  const foreign: Record<string, string> = {
    "notes.txt": "mine, not the tool's\n",
    [`${svc}_20200101T000000Z_${HOST}.tar.zst`]: "an archive-like name, no manifest\n",
    [`${svc}_20200101T000001Z_${HOST}.tar.gz`]: "a gzip archive-like name, no manifest\n",
    [`${svc}_20200102T000000Z_${HOST}.json`]: "{ not json",
    [`${svc}_20200102T000000Z_${HOST}.tar.zst`]: "its manifest is broken\n",
    [`other_20200103T000000Z_${HOST}.json`]: fs.readFileSync(backups[19]!.manifest, "utf8"),
    [`other_20200103T000000Z_${HOST}.tar.zst`]: "another service's name in this folder\n",
    [`${svc}_20200104T000000Z_${HOST}.json.bak`]: "a copy someone made\n",
  };
  for (const [name, text] of Object.entries(foreign)) {
    fs.writeFileSync(path.join(folder, name), text);
    fs.utimesSync(path.join(folder, name), old, old);
  }
  fs.writeFileSync(path.join(p.backupDir, "desktop.ini"), "[.ShellClassInfo]\n");
  fs.utimesSync(path.join(p.backupDir, "desktop.ini"), old, old);

  // 1. All twenty expired (1 to 20 days old): only the newest three stay.
  let ids = redate((j) => (j + 1) * DAY + HOUR);
  const allOld = plan();
  expect(allOld.kept).toEqual(ids.slice(0, 3));
  expect(allOld.removed).toEqual(ids.slice(3));
  expect(new Set(allOld.reasons)).toEqual(new Set(["older than 1 day"]));

  // 2. The newest five are hours old (two of them pre-restore, beyond keep_last); the rest 2 to 16
  //    days old, one of them an old pre-restore backup: exactly those fifteen go.
  const kinds = (j: number) => (j === 3 || j === 4 || j === 8 ? "pre-restore" : "manual");
  ids = redate((j) => (j < 5 ? (j + 1) * HOUR : (j - 3) * DAY + HOUR), kinds);
  const before = fs.readdirSync(folder).sort();
  const r = tb(["prune", "--json"]);
  expectClean(r, 0);
  expect(JSON.parse(r.stdout).removed.map((x: { id: string }) => x.id)).toEqual(ids.slice(5));
  const gone = ids.slice(5).flatMap((id) => [`${id}.json`, `${id}.tar.zst`]);
  expect(fs.readdirSync(folder).sort()).toEqual(before.filter((n) => !gone.includes(n)));
  expect(listJson(p, svc, env).map((b) => [b.id, b.kind])).toEqual(ids.slice(0, 5).map((id, j) => [id, kinds(j)]));
  for (const name of Object.keys(foreign))
    expect(fs.readFileSync(path.join(folder, name), "utf8")).toBe(foreign[name]!);
  expect(fs.existsSync(path.join(p.backupDir, "desktop.ini"))).toBe(true);

  // 3. The retention a real backup runs afterwards agrees: everything left is young, nothing else goes.
  expectClean(tb(["backup", svc]), 0);
  expect(
    listJson(p, svc, env)
      .map((b) => b.id)
      .slice(1),
  ).toEqual(ids.slice(0, 5));
  for (const name of Object.keys(foreign)) expect(fs.existsSync(path.join(folder, name))).toBe(true);
  for (const id of ids.slice(0, 5))
    expect({ id, code: tb(["verify", svc, "--from", id]).code }).toEqual({ id, code: 0 });
});

test("backups dated in the future (a wrong clock): kept, not counted towards keep_last, and not fresh for status", () => {
  const svc = svcName("future");
  const vol = createVolume();
  fillVolume(vol, "echo tiny > tiny.txt");
  const p = makeProject({
    services: { [svc]: [{ name: vol }] },
    config: { retention_days: 7, keep_last: 2, services: { [svc]: true } },
  });
  const env = { TOOLS_BACKUP_HOST: HOST };
  const tb = (args: string[]) => run([...args, ...p.args], { stateHome: p.stateHome, env });
  for (let i = 0; i < 5; i++) expectClean(tb(["backup", svc]), 0);
  // Newest first: two moved a year ahead, three 14 to 16 days back.
  const dates = [
    Date.UTC(2027, 11, 2),
    Date.UTC(2027, 11, 1),
    Date.now() - 14 * DAY,
    Date.now() - 15 * DAY,
    Date.now() - 16 * DAY,
  ];
  const [f2, f1, r14, r15, r16] = listJson(p, svc, env).map((b, j) =>
    redateBackup(b.manifest, new Date(dates[j]!)),
  ) as { id: string; manifest: string; file: string }[];

  const status = tb(["status", "--json"]);
  expectClean(status, 1, /no backup newer than/, new RegExp(`${f2!.id}, ${f1!.id} are dated in the future`));
  const row = JSON.parse(status.stdout).services[0];
  expect(row).toMatchObject({ service: svc, stale: true, newest: { id: r14!.id }, dated_in_future: [f2!.id, f1!.id] });
  expect(row.newest.age_hours).toBeGreaterThan(14 * 24 - 1);
  const list = tb(["list", svc]);
  expect(list.stdout.split("\n").filter((l) => l.includes("in the future")).length).toBe(2);

  const dry = tb(["prune", "--dry-run", "--json"]);
  expectClean(dry, 0);
  const plan = JSON.parse(dry.stdout);
  expect(plan.removed.map((b: { id: string }) => b.id)).toEqual([r16!.id]);
  expect(plan.kept.map((b: { id: string; reason: string }) => [b.id, b.reason])).toEqual([
    [f2!.id, "dated in the future (a wrong clock?): its age cannot be judged"],
    [f1!.id, "dated in the future (a wrong clock?): its age cannot be judged"],
    [r14!.id, "one of the newest 2"],
    [r15!.id, "one of the newest 2"],
  ]);
  expectClean(tb(["prune"]), 0);
  const left = (b: { manifest: string; file: string }) => fs.existsSync(b.manifest) && fs.existsSync(b.file);
  expect([f2, f1, r14, r15, r16].map((b) => left(b!))).toEqual([true, true, true, true, false]);
});

test("services: the newest backup is the newest complete one not dated in the future, which it names", () => {
  const svc = svcName("futsvc");
  const vol = createVolume();
  fillVolume(vol, "echo tiny > tiny.txt");
  const p = makeProject({ services: { [svc]: [{ name: vol }] } });
  const env = { TOOLS_BACKUP_HOST: HOST };
  const tb = (args: string[]) => run([...args, ...p.args], { stateHome: p.stateHome, env });
  for (let i = 0; i < 3; i++) expectClean(tb(["backup", svc]), 0);
  // Newest first: one moved a month ahead (a wrong clock), one still downloading, one two days old.
  const [ahead, partial, good] = listJson(p, svc, env);
  const future = redateBackup(ahead!.manifest, new Date(Date.now() + 30 * DAY));
  fs.truncateSync(partial!.file, Math.floor(partial!.bytes / 2));
  const newest = redateBackup(good!.manifest, new Date(Date.now() - 2 * DAY));

  const json = tb(["services", "--json"]);
  expect(JSON.parse(json.stdout)[0]).toMatchObject({
    name: svc,
    newest: { id: newest.id, host: HOST },
    dated_in_future: [future.id],
  });
  expectClean(json, 0, `${svc}: ${future.id} is dated in the future`);
  const text = tb(["services"]);
  expectClean(text, 0, `${svc}: ${future.id} is dated in the future`);
  expect(text.stdout).toMatch(new RegExp(`^${svc} .* 2d ago, \\d+ B$`, "m"));
  expect(text.stdout).not.toContain("in the future");

  // With only that one left, there is no newest to show, and the table says why.
  fs.rmSync(newest.manifest);
  fs.rmSync(partial!.manifest);
  const only = tb(["services"]);
  expectClean(only, 0, `${svc}: ${future.id} is dated in the future`);
  expect(only.stdout).toMatch(new RegExp(`^${svc} .* only dated in the future$`, "m"));
});
