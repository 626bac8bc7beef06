/**
 * Offsite copies shared and kept tidy, against the real engine and a real S3 server: two hosts in
 * one bucket and prefix, objects the tool did not write under its prefix, and `prune --dry-run`.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { type RunResult, run } from "../helpers/cli.ts";
import { checksums, createVolume, docker, fillVolume, volumeExists } from "../helpers/docker.ts";
import { BUCKET, copyEntry, expectNoSecret, keyFile, keysUnder, plant, useS3Server } from "../helpers/offsite-kit.ts";
import { filesIn, makeProject, type Project, redateBackup } from "../helpers/project.ts";
import { FAST, FILL, svcName } from "../helpers/restore-kit.ts";
import type { RcloneClient } from "../helpers/s3-client.ts";
import type { S3Server } from "../helpers/s3-server.ts";

setDefaultTimeout(170_000);

let server: S3Server;
let s3: RcloneClient;
useS3Server((started, client) => {
  server = started;
  s3 = client;
});

const DAY = 86_400_000;
const newPrefix = (what: string) => `${what}-${randomBytes(3).toString("hex")}`;

/** One machine: a project with one service on `volume`, its own backup_dir, state and host name. */
interface Machine {
  host: string;
  service: string;
  p: Project;
  keys: string;
}

function machine(host: string, service: string, volume: string): Machine {
  const p = makeProject({ services: { [service]: [{ name: volume }] } });
  return { host, service, p, keys: keyFile(p.root, server) };
}

/** backup.yaml with these copies (name -> prefix and per-copy settings) and top-level `extra`. */
function configure(m: Machine, copies: [string, string, Record<string, unknown>?][], extra = {}): void {
  m.p.writeConfig({
    services: { [m.service]: true },
    offsite: copies.map(([name, prefix, settings]) => copyEntry(server, name, prefix, m.keys, settings)),
    ...extra,
  });
}

function tbm(m: Machine, args: string[]): RunResult {
  const r = run([...args, ...m.p.args], { stateHome: m.p.stateHome, env: { ...FAST, TOOLS_BACKUP_HOST: m.host } });
  expectNoSecret(server, r);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  return r;
}

interface Row {
  id: string;
  host: string;
  file: string | null;
  manifest: string | null;
  locations: string[];
}

function listOf(m: Machine): Row[] {
  const r = tbm(m, ["list", m.service, "--json"]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

function backup(m: Machine): void {
  const r = tbm(m, ["backup", m.service]);
  if (r.code !== 0) throw new Error(`backup on ${m.host} failed (${r.code}): ${r.stderr}`);
}

/**
 * Local backups made days ago: one backup per age, each moved to that date (its bytes unchanged).
 * Run before the machine has an offsite copy, so nothing was uploaded under the original id.
 */
function oldBackups(m: Machine, daysAgo: number[]): { id: string; file: string; manifest: string }[] {
  return daysAgo.map((days) => {
    backup(m);
    // Newest first, and every earlier one was moved back already.
    return redateBackup(listOf(m)[0]!.manifest!, new Date(Date.now() - days * DAY));
  });
}

/** The backup ids of a host in the copy (its manifests), sorted. */
async function idsInCopy(prefix: string, service: string, host: string): Promise<string[]> {
  return (await keysUnder(s3, prefix))
    .map((k) => new RegExp(`^${service}/(${service}_\\d{8}T\\d{6}Z_${host})\\.json$`).exec(k)?.[1])
    .filter((id): id is string => id !== undefined)
    .sort();
}

test("two hosts in one bucket and prefix: each lists both, prunes its own, beta restores alpha's", async () => {
  const service = svcName("web");
  const volume = createVolume();
  fillVolume(volume, `${FILL}dd if=/dev/urandom of=random.bin bs=64k count=6 2>/dev/null\n`);
  const prefix = newPrefix("shared");
  const alpha = machine("alpha", service, volume);
  const beta = machine("beta", service, volume);

  const alphaOld = oldBackups(alpha, [4, 3]).map((b) => b.id);
  configure(alpha, [["shared", prefix]]);
  backup(alpha); // uploads its new backup and catches up the two older ones
  const alphaIds = await idsInCopy(prefix, service, "alpha");
  expect(alphaIds).toHaveLength(3);
  expect(alphaIds).toEqual(expect.arrayContaining(alphaOld));
  const alphaNewest = alphaIds.at(-1)!;
  const alphaData = checksums(volume);

  // beta's data differs, so restoring alpha's backup is told apart from beta's own.
  fillVolume(volume, "echo beta > keep.txt && rm random.bin && echo only-beta > beta.txt");
  oldBackups(beta, [4, 3]);
  configure(beta, [["shared", prefix]]);
  backup(beta);
  const betaIds = await idsInCopy(prefix, service, "beta");
  expect(betaIds).toHaveLength(3);

  for (const m of [alpha, beta]) {
    const rows = listOf(m);
    expect(rows.map((b) => b.id).sort()).toEqual([...alphaIds, ...betaIds].sort());
    for (const b of rows) {
      const own = b.host === m.host;
      expect(b.locations).toEqual(own ? ["local", "shared"] : ["shared"]);
      expect(b.file === null).toBe(!own);
    }
  }

  // Retention: the newest backup only, nothing older than a day; each host prunes its own alone.
  configure(alpha, [["shared", prefix]], { keep_last: 1, retention_days: 1 });
  configure(beta, [["shared", prefix]], { keep_last: 1, retention_days: 1 });
  const prunedAlpha = tbm(alpha, ["prune"]);
  expect(prunedAlpha.code).toBe(0);
  for (const id of alphaOld) expect(prunedAlpha.stderr).toContain(`shared: removed ${id}`);
  // beta's backups count as kept ("made on another host"), as in a shared backup_dir.
  expect(prunedAlpha.stderr).toContain("shared: removed 2 backups, kept 4");
  expect(await idsInCopy(prefix, service, "alpha")).toEqual([alphaNewest]);
  expect(await idsInCopy(prefix, service, "beta")).toEqual(betaIds);
  const prunedBeta = tbm(beta, ["prune"]);
  expect(prunedBeta.code).toBe(0);
  expect(await idsInCopy(prefix, service, "alpha")).toEqual([alphaNewest]);
  expect(await idsInCopy(prefix, service, "beta")).toEqual([betaIds.at(-1)!]);
  // Each archive went with its manifest.
  expect((await keysUnder(s3, prefix)).sort()).toEqual(
    [alphaNewest, betaIds.at(-1)!].flatMap((id) => [`${service}/${id}.json`, `${service}/${id}.tar.zst`]).sort(),
  );

  // beta restores alpha's backup into a volume it does not have yet.
  docker(["volume", "rm", volume]); // the name stays recorded for cleanupDocker
  expect(volumeExists(volume)).toBe(false);
  const r = tbm(beta, ["restore", service, "--from", alphaNewest, "--yes"]);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`shared: fetched ${alphaNewest}`);
  expect(volumeExists(volume)).toBe(true);
  expect(checksums(volume)).toEqual(alphaData);
  expect(filesIn(beta.p.serviceFolder(service))).toContain(`${alphaNewest}.json`);
});

test("objects the tool did not write survive backups with retention and prune; list warns", async () => {
  const service = svcName("fo");
  const volume = createVolume();
  fillVolume(volume, FILL);
  const prefix = newPrefix("foreign");
  const m = machine("gamma", service, volume);
  const old = oldBackups(m, [5, 4]);
  for (const b of old) await plant(s3, prefix, service, b);
  const foreign: Record<string, string> = {
    "notes.txt": "not a backup\n",
    [`${service}/readme.md`]: "# what is in here\n",
    [`${service}/${service}_20200101T000000Z_other.tar.zst`]: "an archive without a manifest",
    // Named like this host's manifest and archive, but the manifest is no manifest.
    [`${service}/${service}_20200102T000000Z_gamma.json`]: '{"id": "broken',
    [`${service}/${service}_20200102T000000Z_gamma.tar.zst`]: "bytes",
  };
  for (const [key, text] of Object.entries(foreign)) await s3.putString(BUCKET, `${prefix}/${key}`, text);
  const foreignSums = async () =>
    Promise.all(Object.keys(foreign).map(async (k) => [k, await s3.sha256(BUCKET, `${prefix}/${k}`)]));
  const sums = await foreignSums();
  configure(m, [["b2", prefix]], { keep_last: 1, retention_days: 1 });

  const listed = tbm(m, ["list", service]);
  expect(listed.code).toBe(0);
  expect(listed.stderr).toMatch(new RegExp(`warn: .*${service}_20200102T000000Z_gamma\\.json`));
  for (const b of old) expect(listed.stdout).toMatch(new RegExp(`^${b.id} .* local,b2\\s*$`, "m"));

  backup(m); // uploads the new backup, then retention removes the two old ones here and there
  const broken = `${service}_20200102T000000Z_gamma`;
  const mine = (await idsInCopy(prefix, service, "gamma")).filter((id) => id !== broken);
  expect(mine).toHaveLength(1);
  expect(old.map((b) => b.id)).not.toContain(mine[0]);
  expect(await foreignSums()).toEqual(sums);

  const pruned = tbm(m, ["prune"]);
  expect(pruned.code).toBe(0);
  expect(pruned.stderr).toContain("b2: removed 0 backups, kept 1");
  expect(await foreignSums()).toEqual(sums);
  expect((await keysUnder(s3, prefix)).sort()).toEqual(
    [...Object.keys(foreign), `${service}/${mine[0]}.json`, `${service}/${mine[0]}.tar.zst`].sort(),
  );
});

test("prune --dry-run says per copy what would go and deletes nothing", async () => {
  const service = svcName("dry");
  const volume = createVolume();
  fillVolume(volume, FILL);
  const [p1, p2] = [newPrefix("dry1"), newPrefix("dry2")];
  const m = machine("delta", service, volume);
  const [oldest, middle, newest] = oldBackups(m, [5, 4, 3]);
  for (const b of [oldest!, middle!, newest!]) {
    await plant(s3, p1, service, b);
    await plant(s3, p2, service, b);
  }
  // Top level: everything older than a day goes unless keep_last (3 by default) keeps it.
  m.p.writeConfig({
    services: { [service]: true },
    retention_days: 1,
    offsite: [
      copyEntry(server, "one", p1, m.keys, { keep_last: 1 }),
      copyEntry(server, "two", p2, m.keys, { keep_last: 2 }),
    ],
  });
  const objects = async () => [await keysUnder(s3, p1), await keysUnder(s3, p2)];
  const before = await objects();
  const local = filesIn(m.p.serviceFolder(service));

  const dry = tbm(m, ["prune", "--dry-run"]);
  expect(dry.code).toBe(0);
  expect(dry.stderr).toContain(`one: would remove ${oldest!.id}`);
  expect(dry.stderr).toContain(`one: would remove ${middle!.id}`);
  expect(dry.stderr).toContain(`two: would remove ${oldest!.id}`);
  expect(dry.stderr).not.toContain(`two: would remove ${middle!.id}`);
  expect(dry.stderr).toContain("one: would remove 2 backups, kept 1");
  expect(dry.stderr).toContain("two: would remove 1 backup, kept 2");
  expect(await objects()).toEqual(before);
  expect(filesIn(m.p.serviceFolder(service))).toEqual(local);

  const json = tbm(m, ["prune", "--dry-run", "--json"]);
  expect(json.code).toBe(0);
  const { offsite } = JSON.parse(json.stdout);
  expect(offsite.one.removed.map((b: { id: string }) => b.id).sort()).toEqual([oldest!.id, middle!.id].sort());
  expect(offsite.two.removed.map((b: { id: string }) => b.id)).toEqual([oldest!.id]);
  expect(await objects()).toEqual(before);

  // The real prune removes exactly what the dry run said.
  expect(tbm(m, ["prune"]).code).toBe(0);
  expect(await idsInCopy(p1, service, "delta")).toEqual([newest!.id]);
  expect(await idsInCopy(p2, service, "delta")).toEqual([middle!.id, newest!.id]);
});
