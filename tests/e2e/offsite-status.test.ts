/**
 * `list`, `status` and `verify --offsite` with an offsite copy (issue 30), from the compiled binary
 * against the real engine and a real S3 server; objects are planted with rclone, an independent client.
 */
import { afterAll, afterEach, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, tempDir } from "../helpers/cli.ts";
import { cleanupDocker } from "../helpers/docker.ts";
import {
  BUCKET,
  backupOf,
  filesWithSecret,
  type OffsiteProject,
  offsiteProject,
  SECRET,
} from "../helpers/offsite-project.ts";
import { rcloneClient } from "../helpers/s3-client.ts";
import { type S3Server, startS3Server } from "../helpers/s3-server.ts";

setDefaultTimeout(180_000);

let server: S3Server;

beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET], secretAccessKey: SECRET });
});
afterEach(cleanupDocker);
afterAll(async () => {
  await server?.stop();
  cleanupCliTemp();
});

const project = () => offsiteProject({ endpoint: server.endpoint, accessKeyId: server.accessKeyId });

/** A backup of app with the copy configured; returns its manifest. */
function backUp(o: OffsiteProject): string {
  const r = o.cli(["backup"]);
  expect(r.code).toBe(0);
  return o.manifests().at(-1)!;
}

/** The WHERE column of `list`'s table, by backup id. */
function whereById(stdout: string): Record<string, string> {
  const rows = stdout.trim().split("\n").slice(1);
  return Object.fromEntries(rows.map((l) => l.trim().split(/\s+/)).map((f) => [f[0]!, f.at(-1)!]));
}

test("list merges backup_dir and the copy in WHERE; --offsite lists one copy; --json has locations", () => {
  const o = project();
  // A: uploaded, then its local files deleted: only in b2.
  const a = backupOf(backUp(o));
  fs.rmSync(path.join(o.p.serviceFolder("app"), a.archive));
  fs.rmSync(path.join(o.p.serviceFolder("app"), `${a.id}.json`));
  // B: in both. C: made with a backup.yaml without the copy, so only in backup_dir.
  const b = backupOf(backUp(o));
  const withCopy = fs.readFileSync(o.p.config, "utf8");
  o.p.writeConfig({ services: { app: true } });
  expect(o.cli(["backup"]).code).toBe(0);
  const c = backupOf(o.manifests().at(-1)!);
  fs.writeFileSync(o.p.config, withCopy);

  const all = o.cli(["list"]);
  expect(all.code).toBe(0);
  expect(all.stdout.split("\n")[0]).toMatch(/\bWHERE$/);
  expect(whereById(all.stdout)).toEqual({ [a.id]: "b2", [b.id]: "local,b2", [c.id]: "local" });

  const one = o.cli(["list", "--offsite", "b2"]);
  expect(one.code).toBe(0);
  expect(Object.keys(whereById(one.stdout)).sort()).toEqual([a.id, b.id].sort());

  const json = o.cli(["list", "--json"]);
  expect(json.code).toBe(0);
  const byId = Object.fromEntries(JSON.parse(json.stdout).map((e: { id: string }) => [e.id, e]));
  expect(byId[a.id]).toMatchObject({ locations: ["b2"], file: null });
  expect(byId[b.id].locations).toEqual(["local", "b2"]);
  expect(byId[c.id].locations).toEqual(["local"]);

  const unknown = o.cli(["list", "--offsite", "x"]);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("--offsite x: no such copy");
  expect(unknown.stderr).toContain("the offsite copies are b2");
  expect(filesWithSecret(o.p.backupDir, o.p.stateHome)).toEqual([]);
});

test("status: the offsite table; --max-age below the copy's age: exit 1 naming it; --json rows", async () => {
  const o = project();
  backUp(o);
  const ok = o.cli(["status"]);
  expect(ok.code).toBe(0);
  expect(ok.stdout).toMatch(/STATE\s+SERVICE\s+OFFSITE\s+NEWEST COPY\s+LAST UPLOAD/);
  expect(ok.stdout).toMatch(/\nok\s+app\s+b2\s+\d+s ago\s+ok \d+s ago/);

  const json = o.cli(["status", "--json"]);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout).offsite).toEqual([
    expect.objectContaining({ copy: "b2", service: "app", stale: false, error: null }),
  ]);

  await Bun.sleep(3000);
  // 0.0005 hours is 1.8 s: the copy's newest backup is older by now.
  const stale = o.cli(["status", "--max-age", "0.0005"]);
  expect(stale.code).toBe(1);
  expect(stale.stdout).toMatch(/\nSTALE\s+app\s+b2\s/);
  expect(stale.stderr).toContain("offsite copy b2 has no backup newer than 0.0005 hours for app");
  const staleJson = o.cli(["status", "--json", "--max-age", "0.0005"]);
  expect(JSON.parse(staleJson.stdout).offsite[0]).toMatchObject({ copy: "b2", stale: true });
  expect(o.cli(["status", "--max-age", "1"]).code).toBe(0);
  expect(filesWithSecret(o.p.backupDir, o.p.stateHome)).toEqual([]);
});

test("verify --offsite b2: ok; an archive replaced by other bytes, same or other size: exit 1", async () => {
  const o = project();
  const b = backupOf(backUp(o));
  const ok = o.cli(["verify", "--offsite", "b2"]);
  expect(ok.code).toBe(0);
  expect(ok.stderr).toContain(`b2: ${b.id}: ok`);

  const key = `${o.prefix}/app/${b.archive}`;
  const s3 = rcloneClient(server);
  const size = fs.statSync(path.join(o.p.serviceFolder("app"), b.archive)).size;
  const other = path.join(tempDir("tbtest-other-"), "other.bin");
  for (const bytes of [size, size + 1000]) {
    fs.writeFileSync(other, Buffer.alloc(bytes, 0x5a));
    await s3.putFile(BUCKET, key, other);
    const bad = o.cli(["verify", "--offsite", "b2"]);
    expect({ bytes, code: bad.code }).toEqual({ bytes, code: 1 });
    expect(bad.stderr).toContain(`error: b2: s3://${BUCKET}/${key}: `);
    expect(bad.stderr).toContain("1 backup failed verification");
    expect(bad.stderr).not.toContain(`b2: ${b.id}: ok`);
  }
  // The local backup is untouched by what happened to the copy.
  expect(o.cli(["verify", "app"]).code).toBe(0);
  expect(filesWithSecret(o.p.backupDir, o.p.stateHome)).toEqual([]);
});
