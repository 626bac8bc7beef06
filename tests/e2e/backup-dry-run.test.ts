/**
 * `backup --dry-run` against a real engine: what a backup would stop, archive and delete, shown
 * without stopping, writing or deleting anything.
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import { cleanupCliTemp } from "../helpers/cli.ts";
import { cleanupDocker, inVolume, uniqueName, volumeExists } from "../helpers/docker.ts";
import { containerInfo, expectClean } from "../helpers/faults.ts";
import { filesIn } from "../helpers/project.ts";
import { backupOk, cleanupApps, HOST, listed, restamp, type Svc, service, tb } from "../helpers/restore-kit.ts";

setDefaultTimeout(120_000);
afterEach(() => {
  cleanupApps();
  cleanupDocker();
});
afterAll(cleanupCliTemp);

interface Preview {
  service: string;
  containers: string[];
  volumes: { name: string; bytes: number | null }[];
  archive: string | null;
  would_delete: string[];
  offsite: string[];
  warnings: string[];
  problems: string[];
}

/** A service with one backup three days old, so that keep_last 1 lets a new backup push it out. */
function withOldBackup(): { s: Svc; old: string } {
  const s = service({ fill: "head -c 300000 /dev/urandom > big.bin && echo small > small.txt" });
  s.p.writeConfig({ retention_days: 1, keep_last: 1, services: { [s.name]: true } });
  const old = restamp(backupOk(s), stampOf(new Date(Date.now() - 3 * 86_400_000)));
  return { s, old };
}

const stampOf = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");
const kibOnDisk = (vol: string) => Number(inVolume(vol, "du -sk /d | cut -f1").trim());
/** The archive a backup of `s` made now would write. */
const archiveRe = (s: Svc) => `${s.p.serviceFolder(s.name)}/${s.name}_\\d{8}T\\d{6}Z_${HOST}\\.tar\\.zst`;

test("shows containers, volume sizes, archive path and what retention would delete; stops, writes nothing", () => {
  const { s, old } = withOldBackup();
  const started = containerInfo(s.container!);
  const files = filesIn(s.p.serviceFolder(s.name));

  const r = tb(s, ["backup", s.name, "--dry-run"]);
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: "" });
  expect(r.stderr).toContain(`would stop ${s.container}`);
  expect(r.stderr).toMatch(new RegExp(`volume ${s.vol}: \\d+(\\.\\d)? KiB on disk`));
  expect(r.stderr).toMatch(new RegExp(`archive: ${archiveRe(s)}\n`));
  expect(r.stderr).toContain(`retention would then delete ${old}`);

  expect(containerInfo(s.container!)).toEqual(started);
  expect(filesIn(s.p.serviceFolder(s.name))).toEqual(files);
  expect(listed(s).map((b) => b.id)).toEqual([old]);
});

test("--json: per service containers, volumes with bytes, archive, would_delete", () => {
  const { s, old } = withOldBackup();
  const started = containerInfo(s.container!);
  const files = filesIn(s.p.serviceFolder(s.name));

  const r = tb(s, ["backup", "--dry-run", "--json"]);
  expect(r.code).toBe(0);
  const previews = JSON.parse(r.stdout) as Preview[];
  expect(previews).toEqual([
    {
      service: s.name,
      containers: [s.container!],
      volumes: [{ name: s.vol, bytes: kibOnDisk(s.vol) * 1024 }],
      archive: expect.stringMatching(new RegExp(`^${archiveRe(s)}$`)),
      would_delete: [old],
      offsite: [],
      warnings: [],
      problems: [],
    },
  ]);
  expect(fs.existsSync(previews[0]!.archive!)).toBe(false);
  expect(containerInfo(s.container!)).toEqual(started);
  expect(filesIn(s.p.serviceFolder(s.name))).toEqual(files);
});

test("a volume that does not exist: named as what would fail, exit 1, and not created by measuring", () => {
  const s = service();
  const missing = uniqueName("vol");
  s.p.writeService(s.name, [{ name: s.vol, container: s.container! }, { name: missing }]);
  const started = containerInfo(s.container!);

  const r = tb(s, ["backup", s.name, "--dry-run", "--json"]);
  expectClean(r, 1, `would fail: volume ${missing} of ${s.name} does not exist`);
  const [preview] = JSON.parse(r.stdout) as Preview[];
  expect(preview!.volumes).toEqual([
    { name: s.vol, bytes: kibOnDisk(s.vol) * 1024 },
    { name: missing, bytes: null },
  ]);
  expect(volumeExists(missing)).toBe(false);
  expect(containerInfo(s.container!)).toEqual(started);
  expect(filesIn(s.p.backupDir)).toEqual([]);
});

test("with offsite copies: names the copies the backup would then be uploaded to, and contacts none", () => {
  const s = service({ fill: "echo data > d.txt" });
  const keys = `${s.p.root}/keys.env`;
  fs.writeFileSync(keys, "AWS_ACCESS_KEY_ID=K\nAWS_SECRET_ACCESS_KEY=S\n", { mode: 0o600 });
  // Nothing listens on port 9: a dry run that contacted a copy would fail.
  const copy = (name: string) => ({ name, url: "s3://bucket-x/t", endpoint: "http://127.0.0.1:9", credentials: keys });
  s.p.writeConfig({ services: { [s.name]: true }, offsite: [copy("b2"), copy("nas")] });
  const r = tb(s, ["backup", s.name, "--dry-run"]);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`${s.name}: would then upload it to b2, nas`);
  const json = JSON.parse(tb(s, ["backup", s.name, "--dry-run", "--json"]).stdout) as Preview[];
  expect(json[0]!.offsite).toEqual(["b2", "nas"]);
});
