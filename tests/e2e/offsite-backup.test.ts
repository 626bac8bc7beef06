/**
 * `backup` with an offsite copy (issue 30), from the compiled binary against the real engine and a
 * real S3 server; what landed in the bucket is read back with rclone, an independent client.
 */
import { afterAll, afterEach, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, tempDir } from "../helpers/cli.ts";
import { cleanupDocker, isRunning, startedAt } from "../helpers/docker.ts";
import { fakeCrontab } from "../helpers/fake-crontab.ts";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.ts";
import {
  BUCKET,
  backupOf,
  fileSha256,
  filesWithSecret,
  type OffsiteProject,
  offsiteProject,
  SECRET,
} from "../helpers/offsite-project.ts";
import { filesIn } from "../helpers/project.ts";
import { rcloneClient } from "../helpers/s3-client.ts";
import { type S3Server, startS3Server } from "../helpers/s3-server.ts";

setDefaultTimeout(180_000);

let server: S3Server;
let proxy: FaultProxy;

beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET], secretAccessKey: SECRET });
  proxy = await startFaultProxy(server.endpoint);
});
afterEach(cleanupDocker);
afterAll(async () => {
  await proxy?.stop();
  await server?.stop();
  cleanupCliTemp();
});

/** Docker's StartedAt (nanoseconds) as milliseconds since the epoch. */
const startedMs = (container: string) => Date.parse(startedAt(container).replace(/(\.\d{3})\d*/, "$1"));

/** Nothing the product wrote locally holds the secret. */
function expectNoSecretWritten(o: OffsiteProject) {
  expect(filesWithSecret(o.p.backupDir, o.p.stateHome)).toEqual([]);
}

test("one copy: archive and manifest in the bucket, same sha256, sent after the container runs", async () => {
  // Random bytes do not compress: an archive over 8 MiB goes up in parts.
  const o = offsiteProject({
    endpoint: proxy.url,
    accessKeyId: server.accessKeyId,
    fill: "dd if=/dev/urandom of=big.bin bs=1M count=12 2>/dev/null",
  });
  proxy.clear();
  let firstPart: { at: number; running: boolean } | undefined;
  proxy.fail({
    match: (r) => {
      if (!firstPart && r.method === "PUT" && r.params.has("partNumber"))
        firstPart = { at: Date.now(), running: isRunning(o.container) };
      return false;
    },
    action: { kind: "stall" },
  });

  const r = await o.cliAsync(["backup"]);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/app: b2: uploaded app_\S+/);

  const [manifest] = o.manifests();
  const b = backupOf(manifest!);
  const archive = path.join(o.p.serviceFolder("app"), b.archive);
  expect(fs.statSync(archive).size).toBeGreaterThan(8 << 20);
  const s3 = rcloneClient(server);
  const keys = (await s3.list(BUCKET, `${o.prefix}/app`)).map((e) => e.key);
  expect(keys.sort()).toEqual([`${o.prefix}/app/${b.archive}`, `${o.prefix}/app/${b.id}.json`].sort());
  const remote = await s3.sha256(BUCKET, `${o.prefix}/app/${b.archive}`);
  expect(remote).toBe(fileSha256(archive));
  expect(remote).toBe(b.sha256);
  expect(await s3.sha256(BUCKET, `${o.prefix}/app/${b.id}.json`)).toBe(fileSha256(manifest!));

  // The multipart path ran: at least two parts, then the completing POST.
  const parts = new Set(proxy.requests.filter((q) => q.method === "PUT").map((q) => q.params.get("partNumber")));
  expect(parts.has("1") && parts.has("2")).toBe(true);
  expect(proxy.requests.some((q) => q.method === "POST" && q.params.has("uploadId") && q.status === 200)).toBe(true);

  // Upload never adds downtime: the container was started again before the first part went up.
  expect(firstPart?.running).toBe(true);
  expect(startedMs(o.container)).toBeLessThan(firstPart!.at);
  expect(isRunning(o.container)).toBe(true);
  // The whole downtime fits before the upload began (the backup started at created_at).
  expect(b.downtimeMs).toBeLessThan(firstPart!.at - b.createdMs);
  expectNoSecretWritten(o);
});

test("a copy that cannot be reached: exit 1 naming it, local backup intact; the next run catches up", async () => {
  const dir = tempDir("tbtest-s3own-");
  let own = await startS3Server({ buckets: [BUCKET], secretAccessKey: SECRET, dir });
  const port = own.port;
  try {
    const o = offsiteProject({ endpoint: own.endpoint, accessKeyId: own.accessKeyId });
    await own.stop(); // the port is closed now

    const first = o.cli(["backup"]);
    expect(first.code).toBe(1);
    expect(first.stderr).toContain("app: offsite copy b2 failed: cannot connect to");
    expect(first.stderr).toContain("the local backups are intact");
    expect(isRunning(o.container)).toBe(true);
    const [earlier] = o.manifests();
    const a = backupOf(earlier!);
    const verify = o.cli(["verify", "app"]);
    expect(verify.code).toBe(0);
    expect(verify.stderr).toContain(a.id);
    // The list shows the local backup, and says it may lack what the unreachable copy holds.
    const list = o.cli(["list", "--json"]);
    expect(list.code).toBe(1);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id: a.id, locations: ["local"] })]);
    expect(list.stderr).toContain("b2");

    const down = o.cli(["status"]);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/STALE\s+app\s+b2\s+\S+\s+FAILED .*cannot connect/);

    own = await startS3Server({ buckets: [], secretAccessKey: SECRET, dir, port });
    const second = o.cli(["backup"]);
    expect(second.code).toBe(0);
    const ids = o.manifests().map((m) => backupOf(m).id);
    expect(ids).toHaveLength(2);
    const s3 = rcloneClient(own);
    const keys = (await s3.list(BUCKET, `${o.prefix}/app`)).map((e) => e.key);
    const want = o.manifests().flatMap((m) => [backupOf(m).archive, `${backupOf(m).id}.json`]);
    expect(keys.sort()).toEqual(want.map((k) => `${o.prefix}/app/${k}`).sort());
    expect(await s3.sha256(BUCKET, `${o.prefix}/app/${a.archive}`)).toBe(a.sha256);
    for (const id of ids) expect(second.stderr).toContain(`b2: uploaded ${id}`);

    expect(o.cli(["status"]).code).toBe(0);
    expect(isRunning(o.container)).toBe(true);
    expectNoSecretWritten(o);
  } finally {
    expect(own.port).toBe(port);
    await own.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("configuration errors: exit 2 at backup.yaml:LINE:COL, nothing backed up, no container stopped", () => {
  const o = offsiteProject({ endpoint: server.endpoint, accessKeyId: server.accessKeyId });
  const before = startedAt(o.container);
  const loose = path.join(o.p.root, "loose.env");
  fs.writeFileSync(loose, fs.readFileSync(o.credentials));
  fs.chmodSync(loose, 0o644);
  const cases: [string, Record<string, unknown>[], RegExp][] = [
    ["readable key file", [o.copy({ credentials: loose })], /readable by others \(mode 644\): chmod 600 .*loose\.env/],
    ["missing key file", [o.copy({ credentials: path.join(o.p.root, "none.env") })], /cannot read .*none\.env/],
    ["bad url", [o.copy({ url: "s3://x" })], /expected s3:\/\/BUCKET\[\/PREFIX\].*found "s3:\/\/x"/],
    ["duplicate name", [o.copy(), o.copy()], /"b2" cannot be used: another copy is already called "b2"/],
    ["name local", [o.copy({ name: "local" })], /"local" cannot be used: "local" names backup_dir/],
    ["unknown key", [o.copy({ retention_day: 3 })], /retention_day.*did you mean "?retention_days"?/i],
  ];
  for (const [what, offsite, message] of cases) {
    o.p.writeConfig({ services: { app: true }, offsite });
    const r = o.cli(["backup"]);
    expect({ what, code: r.code }).toEqual({ what, code: 2 });
    expect(r.stderr).toMatch(new RegExp(`${o.p.config}:\\d+:\\d+: `));
    expect(r.stderr).toMatch(message);
  }
  expect(filesIn(o.p.serviceFolder("app"))).toEqual([]);
  expect(startedAt(o.container)).toBe(before);
  expect(isRunning(o.container)).toBe(true);
  expectNoSecretWritten(o);
});

test("no keys anywhere: exit 2 naming the copy before any container stops or archive is written", () => {
  const o = offsiteProject({ endpoint: server.endpoint, accessKeyId: server.accessKeyId });
  const before = startedAt(o.container);
  const copy = o.copy();
  delete copy.credentials;
  o.p.writeConfig({ services: { app: true }, offsite: [copy] });
  const home = tempDir("tbtest-home-");
  const r = o.cli(["backup"], { env: { HOME: home } });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("b2: no S3 keys");
  expect(r.stderr).toContain(path.join(home, ".aws", "credentials"));
  expect(filesIn(o.p.serviceFolder("app"))).toEqual([]);
  expect(startedAt(o.container)).toBe(before);
  expect(isRunning(o.container)).toBe(true);
  expectNoSecretWritten(o);
});

test("the crontab line cron install writes holds no secret", () => {
  const o = offsiteProject({ endpoint: server.endpoint, accessKeyId: server.accessKeyId });
  // A stand-in crontab: the real one belongs to cron.test.ts.
  const cron = fakeCrontab();
  const r = o.cli(["cron", "install"], { env: cron.env });
  expect(r.code).toBe(0);
  expect(cron.line()).toContain("'backup' '--cron'");
  expect(cron.table()).not.toContain(SECRET);
  expectNoSecretWritten(o);
});
