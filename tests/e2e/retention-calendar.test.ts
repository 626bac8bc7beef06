/**
 * Retention by calendar through the compiled binary, in Europe/Berlin: a crafted timeline of one
 * service (copies of one real backup at past dates), another host's backups, safety backups and
 * files of other programs. `prune --dry-run --json` names the rules keeping each backup, `prune`
 * deletes exactly the others, `list` shows what is kept; an offsite copy follows its own calendar.
 */
import { afterAll, afterEach, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, run } from "../helpers/cli.ts";
import { cleanupDocker, createVolume, fillVolume } from "../helpers/docker.ts";
import { expectClean, listJson, svcName } from "../helpers/faults.ts";
import { BUCKET, copyEntry, keyFile, keysUnder, plant } from "../helpers/offsite-kit.ts";
import { copyBackup, filesIn, makeProject, type Project, readJson } from "../helpers/project.ts";
import { rcloneClient } from "../helpers/s3-client.ts";
import { type S3Server, startS3Server } from "../helpers/s3-server.ts";

setDefaultTimeout(170_000);

let server: S3Server;
beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET] });
});
afterEach(cleanupDocker);
afterAll(async () => {
  await server.stop();
  cleanupCliTemp();
});

const HOST = "thishost";
const OTHER = "otherhost";
const ENV = { TOOLS_BACKUP_HOST: HOST, TZ: "Europe/Berlin" };
const DAY = 86_400_000;
const POLICY = { keep_daily: 3, keep_monthly: 3, keep_yearly: 4 };

/** This host's timeline, newest first, with the rules that keep each under POLICY in Berlin ("" = removed). */
const TIMELINE: [string, string][] = [
  ["2026-12-03T15:00:00Z", "daily 2026-12-03, monthly 2026-12, yearly 2026"],
  ["2026-12-03T03:00:00Z", ""],
  ["2026-12-02T12:00:00Z", "daily 2026-12-02"],
  // 00:30 on 2026-12-02 in Berlin, though the day before in UTC: the second of its day.
  ["2026-12-01T23:30:00Z", ""],
  ["2026-12-01T12:00:00Z", "daily 2026-12-01"],
  ["2026-11-30T12:00:00Z", "monthly 2026-11"],
  ["2026-11-15T12:00:00Z", ""],
  ["2026-10-31T12:00:00Z", "monthly 2026-10"],
  ["2026-09-30T12:00:00Z", ""],
  ["2025-12-31T12:00:00Z", "yearly 2025"],
  ["2025-06-01T12:00:00Z", ""],
  ["2024-12-31T12:00:00Z", "yearly 2024"],
  // Four years asked, three present: the oldest stays too.
  ["2024-03-01T12:00:00Z", "yearly 2024 (the oldest: fewer yearly periods than kept)"],
];

interface Crafted {
  p: Project;
  svc: string;
  tb: (args: string[]) => ReturnType<typeof run>;
  /** This host's regular backups, as TIMELINE. */
  mine: { id: string; file: string; manifest: string; why: string }[];
  theirs: { id: string; file: string; manifest: string }[];
  safety: { id: string; file: string; manifest: string }[];
}

/** One real backup copied to every date of the timeline, to another host's and to two safety backups. */
function craft(config: Record<string, unknown>): Crafted {
  const svc = svcName("cal");
  const vol = createVolume();
  fillVolume(vol, "echo tiny > tiny.txt");
  const p = makeProject({ services: { [svc]: [{ name: vol }] }, config: { services: {}, ...config } });
  const tb = (args: string[]) => run([...args, ...p.args], { stateHome: p.stateHome, env: ENV });
  expectClean(tb(["backup", svc]), 0);
  const [real] = listJson(p, svc, ENV);
  const at = (t: string | number) => new Date(t);
  const mine = TIMELINE.map(([t, why]) => ({ ...copyBackup(real!.manifest, at(t)), why }));
  const theirs = ["2026-12-04T12:00:00Z", "2026-12-04T11:00:00Z", "2020-01-01T12:00:00Z"].map((t) =>
    copyBackup(real!.manifest, at(t), OTHER),
  );
  const safety = [20, 30].map((d) => {
    const b = copyBackup(real!.manifest, at(Date.now() - d * DAY));
    fs.writeFileSync(b.manifest, JSON.stringify({ ...readJson(b.manifest), kind: "pre-restore" }, null, 2));
    return b;
  });
  fs.rmSync(real!.manifest);
  fs.rmSync(real!.file);
  return { p, svc, tb, mine, theirs, safety };
}

test("prune by calendar: the rules per backup, exactly the others deleted, other hosts and foreign files kept", () => {
  const { p, svc, tb, mine, theirs, safety } = craft({ retention: POLICY });
  const folder = p.serviceFolder(svc);
  const foreign = ["notes.txt", `${svc}_20200101T000000Z_${HOST}.tar.zst`, `${svc}_20200102T000000Z_${HOST}.json`];
  for (const name of foreign) fs.writeFileSync(path.join(folder, name), `${name}: not the tool's\n`);
  fs.writeFileSync(path.join(p.backupDir, "desktop.ini"), "[.ShellClassInfo]\n");

  const expected = [
    ...mine.map((b) => [b.id, b.why || "no retention rule keeps it"]),
    ...theirs.map((b) => [b.id, "made on another host"]),
    [safety[0]!.id, "the newest pre-restore safety backup (the last restore's undo point)"],
    [safety[1]!.id, "older than 7 days"],
  ].sort();
  const removed = [...mine.filter((b) => !b.why), safety[1]!];
  const before = filesIn(p.backupDir);

  const dry = tb(["prune", "--dry-run", "--json"]);
  expectClean(dry, 0);
  const plan = JSON.parse(dry.stdout);
  const rows = (list: { id: string; reason: string }[]) => list.map((b) => [b.id, b.reason]);
  expect([...rows(plan.kept), ...rows(plan.removed)].sort()).toEqual(expected);
  expect(plan.removed.map((b: { id: string }) => b.id).sort()).toEqual(removed.map((b) => b.id).sort());
  for (const b of removed) expect(dry.stderr).toContain(`would remove ${b.id} (`);
  expect(filesIn(p.backupDir)).toEqual(before);
  // `list --json` says the same of each backup, before anything is deleted.
  const listed = run(["list", svc, "--json", ...p.args], { stateHome: p.stateHome, env: ENV });
  const said = (JSON.parse(listed.stdout) as { id: string; retention: { kept: boolean; why: string } }[]).map((b) => [
    b.id,
    b.retention.why,
    b.retention.kept,
  ]);
  const keptIds = new Set(plan.kept.map((b: { id: string }) => b.id));
  expect(said.sort()).toEqual(expected.map(([id, why]) => [id!, why!, keptIds.has(id)]).sort());

  const real = tb(["prune"]);
  expectClean(real, 0);
  const gone = removed.flatMap((b) => [b.file, b.manifest].map((f) => path.relative(p.backupDir, f)));
  expect(filesIn(p.backupDir)).toEqual(before.filter((f) => !gone.includes(f)).sort());
  for (const name of foreign)
    expect(fs.readFileSync(path.join(folder, name), "utf8")).toBe(`${name}: not the tool's\n`);
  const kept = expected.filter(([id]) => !removed.some((b) => b.id === id)).map(([id]) => id!);
  expect(
    listJson(p, svc, ENV)
      .map((b) => b.id)
      .sort(),
  ).toEqual(kept.sort());
  // Nothing is left for a second run.
  const again = tb(["prune", "--dry-run", "--json"]);
  expect(JSON.parse(again.stdout).removed).toEqual([]);
});

test("an offsite copy with its own calendar is pruned by it, the local backups by theirs", async () => {
  const { p, svc, tb, mine, theirs } = craft({ retention: POLICY });
  const s3 = rcloneClient(server);
  const prefix = `cal-${randomBytes(3).toString("hex")}`;
  const copy = copyEntry(server, "b2", prefix, keyFile(p.root, server), { retention: { keep_monthly: 2 } });
  p.writeConfig({ services: {}, retention: POLICY, offsite: [copy] });
  for (const b of [...mine, ...theirs]) await plant(s3, prefix, svc, b);
  await s3.putFile(BUCKET, `${prefix}/${svc}/notes.txt`, p.config);

  const dry = tb(["prune", "--dry-run", "--json"]);
  expectClean(dry, 0);
  const inCopy = JSON.parse(dry.stdout).offsite.b2;
  const monthly = new Map([
    [mine[0]!.id, "monthly 2026-12"],
    [mine[5]!.id, "monthly 2026-11"],
  ]);
  expect(inCopy.kept.map((b: { id: string; reason: string }) => [b.id, b.reason]).sort()).toEqual(
    [...monthly, ...theirs.map((b) => [b.id, "made on another host"])].sort(),
  );
  const copyRemoves = mine.filter((b) => !monthly.has(b.id)).map((b) => b.id);
  expect(inCopy.removed.map((b: { id: string }) => b.id).sort()).toEqual(copyRemoves.sort());

  expectClean(tb(["prune"]), 0);
  const left = await keysUnder(s3, prefix);
  const expectedKeys = [...monthly.keys(), ...theirs.map((b) => b.id)].flatMap((id) => {
    const b = [...mine, ...theirs].find((x) => x.id === id)!;
    return [`${svc}/${path.basename(b.file)}`, `${svc}/${path.basename(b.manifest)}`];
  });
  expect(left.sort()).toEqual([...expectedKeys, `${svc}/notes.txt`].sort());
  // Locally the top-level calendar decided: what it keeps is still listed here and there.
  const local = listJson(p, svc, ENV).filter((b) => b.host === HOST && b.kind !== "pre-restore");
  expect(local.map((b) => b.id).sort()).toEqual(
    mine
      .filter((b) => b.why)
      .map((b) => b.id)
      .sort(),
  );
});
