/**
 * Two machines sharing one backup_dir (a synced folder): two XDG_STATE_HOME, two
 * TOOLS_BACKUP_HOST, one folder. Each machine's retention (after a backup, and `prune`) removes
 * only its own files; both list each other's; an archive still being written by one is never
 * listed, verified, or pruned by the other. (commands.test.ts checks prune's plan with one state folder.)
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, run, start, tempDir } from "../helpers/cli.ts";
import { cleanupDocker, createVolume, fillVolume, runContainer, uniqueName } from "../helpers/docker.ts";
import { containerInfo, expectClean, folderState, listJson, randomFill, svcName } from "../helpers/faults.ts";
import { makeProject, redateBackup } from "../helpers/project.ts";

setDefaultTimeout(240_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

const DAY = 86_400_000;

function shared(fill: string, hosts: [string, string] = ["hosta", "hostb"]) {
  const svc = svcName("shared");
  const vol = createVolume();
  fillVolume(vol, fill);
  const app = runContainer(uniqueName("app"), [vol]);
  const p = makeProject({
    services: { [svc]: [{ name: vol, container: app }] },
    config: { keep_last: 1, retention_days: 1, services: {} },
  });
  const machine = (host: string) => {
    const stateHome = tempDir(`tbtest-state-${host}-`);
    const env = { TOOLS_BACKUP_HOST: host, TOOLS_BACKUP_STOP_TIMEOUT: "1" };
    return {
      host,
      env,
      stateHome,
      tb: (args: string[]) => run([...args, ...p.args], { stateHome, env }),
      start: (args: string[]) => start([...args, ...p.args], { stateHome, env }),
      list: () => listJson(p, svc, env, stateHome),
    };
  };
  return { svc, app, p, folder: p.serviceFolder(svc), a: machine(hosts[0]), b: machine(hosts[1]) };
}

/** Moves a backup DAYS into the past (a new id: files renamed, manifest patched); returns its new id. */
const age = (b: { manifest: string }, days: number) => redateBackup(b.manifest, new Date(Date.now() - days * DAY)).id;

test("each machine prunes only its own files; both list each other's", () => {
  const s = shared("echo a > a.txt");
  for (let i = 0; i < 3; i++) for (const m of [s.a, s.b]) expectClean(m.tb(["backup", s.svc]), 0);
  const listA = s.a.list();
  const listB = s.b.list();
  expect(listA.map((x) => x.id)).toEqual(listB.map((x) => x.id));
  expect(listA.filter((x) => x.host === "hosta")).toHaveLength(3);
  expect(listA.filter((x) => x.host === "hostb")).toHaveLength(3);

  const mine = (host: string) => listA.filter((x) => x.host === host).reverse(); // oldest first
  const [oldA1, oldA2] = mine("hosta");
  const [oldB1, oldB2, oldB3] = mine("hostb");
  const a1 = age(oldA1!, 5);
  const a2 = age(oldA2!, 3); // the third stays fresh
  const [b1, b2, b3] = [age(oldB1!, 6), age(oldB2!, 4), age(oldB3!, 2)]; // all of B's are old
  const oldTemp = (host: string) => {
    const f = path.join(s.folder, `.tmp-${s.svc}_20260101T000000Z_${host}.tar.zst.999`);
    fs.writeFileSync(f, "partial");
    fs.utimesSync(f, new Date(Date.now() - 3 * DAY), new Date(Date.now() - 3 * DAY));
    return path.basename(f);
  };
  const [tempA, tempB] = [oldTemp("hosta"), oldTemp("hostb")];

  // Machine A backs up: its retention removes A's two old backups and A's old temp file, nothing of B.
  expectClean(s.a.tb(["backup", s.svc]), 0);
  const afterA = s.b.list();
  expect(afterA.filter((x) => x.host === "hosta").map((x) => x.id)).not.toContain(a1);
  expect(afterA.filter((x) => x.host === "hosta").map((x) => x.id)).not.toContain(a2);
  expect(afterA.filter((x) => x.host === "hosta")).toHaveLength(2);
  expect(
    afterA
      .filter((x) => x.host === "hostb")
      .map((x) => x.id)
      .sort(),
  ).toEqual([b1, b2, b3].sort());
  expect(folderState(s.folder).temps).toEqual([tempB]);
  expect(tempA).not.toBe(tempB);

  // Machine B prunes: its newest stays (keep_last 1) although old; A's stay.
  expectClean(s.b.tb(["prune"]), 0);
  const final = s.a.list();
  expect(final.filter((x) => x.host === "hostb").map((x) => x.id)).toEqual([b3]);
  expect(final.filter((x) => x.host === "hosta")).toHaveLength(2);
  expect(folderState(s.folder).temps).toEqual([]);
  for (const m of [s.a, s.b]) expect(m.tb(["verify", s.svc]).code).toBe(0);
  expect(containerInfo(s.app).running).toBe(true);
});

test("an archive machine A is still writing is never listed, verified or pruned by machine B", async () => {
  const s = shared(randomFill(150));
  expectClean(s.b.tb(["backup", s.svc]), 0);
  const child = s.a.start(["backup", s.svc]);
  const t0 = Date.now();
  while (folderState(s.folder).temps.length === 0 && Date.now() - t0 < 90_000) await Bun.sleep(5);
  // Held mid-write while B looks: otherwise a fast machine finishes the 150 MiB before B's four runs do.
  process.kill(child.child.pid!, "SIGSTOP");
  const temp = folderState(s.folder).temps[0];
  expect(temp).toMatch(/_hosta\.tar\.zst\.\d+$/);

  const seen = s.b.list();
  const verify = s.b.tb(["verify", s.svc]);
  const prune = s.b.tb(["prune"]);
  const status = s.b.tb(["status", "--json"]);
  const stillWriting = folderState(s.folder).temps.includes(temp!) && child.child.exitCode === null;
  process.kill(child.child.pid!, "SIGCONT");
  expect(stillWriting).toBe(true); // otherwise the checks below prove nothing

  expect(seen.map((x) => x.host)).toEqual(["hostb"]);
  expect(seen.every((x) => x.complete)).toBe(true);
  expectClean(verify, 0);
  expect(verify.stderr).not.toContain(".tmp-");
  expectClean(prune, 0);
  expect(status.stderr).not.toContain(".tmp-");

  expectClean(await child.done, 0);
  const after = s.b.list();
  expect(after.map((x) => x.host).sort()).toEqual(["hosta", "hostb"]);
  expect(after.every((x) => x.complete)).toBe(true);
  expect(folderState(s.folder).temps).toEqual([]);
  expect(s.b.tb(["verify", s.svc]).code).toBe(0);
  expect(containerInfo(s.app).running).toBe(true);
});

test("restore's latest passes over machine B's newer backup that is still downloading, and says so", () => {
  const s = shared("echo a > a.txt");
  expectClean(s.a.tb(["backup", s.svc]), 0);
  expectClean(s.b.tb(["backup", s.svc]), 0);
  const [fromB, fromA] = s.a.list();
  expect([fromB!.host, fromA!.host]).toEqual(["hostb", "hosta"]);
  fs.truncateSync(fromB!.file, Math.floor(fromB!.bytes / 2)); // the sync client has half of it so far

  const r = s.a.tb(["restore", s.svc, "--dry-run"]);
  expectClean(
    r,
    0,
    new RegExp(`skipping ${fromB!.id}: still incomplete`),
    new RegExp(`dry run: ${fromA!.id} passed every check`),
  );
  expect(r.stderr.split("\n").filter((l) => l.includes(fromB!.id))).toHaveLength(1);
  fs.truncateSync(fromA!.file, 1);
  expectClean(
    s.a.tb(["restore", s.svc, "--dry-run"]),
    1,
    new RegExp(`no complete backup of ${s.svc}: ${fromB!.id}, ${fromA!.id} still incomplete`),
  );
  expect(containerInfo(s.app).running).toBe(true);
});

test('machines whose names differ only where a file name cannot (büro, bäro: both "b-ro" there) prune and complete only their own', () => {
  const s = shared("echo a > a.txt", ["büro", "bäro"]);
  for (let i = 0; i < 3; i++) expectClean(s.b.tb(["backup", s.svc]), 0);
  const [third, second, first] = s.b.list();
  const old = [age(first!, 10), age(second!, 9)].sort();
  // bäro is between its two renames: its archive named, its manifest still temporary (a pid unknown here).
  const temp = `.tmp-${third!.id}.json.999999`;
  fs.renameSync(third!.manifest, path.join(s.folder, temp));
  // Two days old, as when bäro has been off since: old enough for the sweep of leftover temporary files.
  const twoDaysAgo = new Date(Date.now() - 2 * DAY);
  fs.utimesSync(path.join(s.folder, temp), twoDaysAgo, twoDaysAgo);

  // büro's backup completes interrupted publishes and applies retention (keep_last 1, one day); then prune.
  expectClean(s.a.tb(["backup", s.svc]), 0);
  expectClean(s.a.tb(["prune"]), 0);
  const listed = s.a.list();
  expect(
    listed
      .filter((x) => x.host === "bäro")
      .map((x) => x.id)
      .sort(),
  ).toEqual(old);
  expect(listed.filter((x) => x.host === "büro")).toHaveLength(1);
  expect(folderState(s.folder).temps).toEqual([temp]);
});
