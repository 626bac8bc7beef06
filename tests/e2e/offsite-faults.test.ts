/**
 * Offsite uploads through a fault-injecting proxy in front of a real S3 server: failed, cut and
 * stalled part uploads are retried into an exact object; a server that always fails leaves the
 * local backup intact; a run killed mid-upload leaves nothing listed, and the next run uploads
 * the backup and aborts the orphaned multipart upload by its journaled id.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cleanupCliTemp, start, waitFor } from "../helpers/cli.ts";
import { cleanupDocker, isRunning } from "../helpers/docker.ts";
import { type FaultProxy, type RecordedRequest, startFaultProxy } from "../helpers/fault-proxy.ts";
import {
  credentialsFile,
  journaledUploads,
  type OffsiteCase,
  offsiteCase,
  offsiteMs,
} from "../helpers/offsite-case.ts";
import { fileSha256 } from "../helpers/offsite-project.ts";
import { rcloneClient } from "../helpers/s3-client.ts";
import { type S3Server, startS3Server } from "../helpers/s3-server.ts";

setDefaultTimeout(120_000);

const COPY = "vault";
const BUCKET = "faults";
let server: S3Server;
let proxy: FaultProxy;
let keys: string;

beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET] });
  proxy = await startFaultProxy(server.endpoint);
  keys = credentialsFile(server);
});
beforeEach(() => proxy.clear());
afterEach(cleanupDocker);
afterAll(async () => {
  await proxy.stop();
  await server.stop();
  cleanupCliTemp();
});

const newCase = (mib: number) =>
  offsiteCase({ name: COPY, bucket: BUCKET, endpoint: proxy.url, credentials: keys }, mib);
const objects = (c: OffsiteCase) => rcloneClient(server).list(BUCKET, c.prefix);
const parts = (uploadId?: string) =>
  proxy.requests.filter(
    (r) => r.method === "PUT" && r.params.has("partNumber") && (!uploadId || r.params.get("uploadId") === uploadId),
  );
const tries = (reqs: RecordedRequest[]) => {
  const by: Record<string, number> = {};
  for (const r of reqs) by[r.params.get("partNumber")!] = (by[r.params.get("partNumber")!] ?? 0) + 1;
  return by;
};

/** What `list --offsite COPY --json` shows of the service. */
async function listedOffsite(c: OffsiteCase): Promise<string[]> {
  const r = await c.run(["list", c.svc, "--offsite", COPY, "--json"]);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { id: string }[]).map((b) => b.id);
}

function expectNoSecret(...texts: string[]) {
  for (const t of texts) expect(t).not.toContain(server.secretAccessKey);
}

describe("faults during a multipart upload", () => {
  test("500s, a reset mid-body and a stalled part are retried into the exact object", async () => {
    const c = newCase(30);
    const part = (n: number) => ({ method: "PUT", query: { partNumber: String(n), uploadId: true as const } });
    proxy.fail({ match: part(1), action: { kind: "error", status: 500, code: "InternalError" }, times: 1 });
    proxy.fail({ match: part(2), action: { kind: "error", status: 500, code: "InternalError" }, times: 1 });
    proxy.fail({ match: part(3), action: { kind: "reset-mid-body" }, times: 1 });
    proxy.fail({ match: part(4), action: { kind: "stall" }, times: 1 });

    const r = await c.run(["backup", c.svc], { env: { TOOLS_BACKUP_OFFSITE_TIMEOUT: "2" } });
    expect(r.stderr).toContain(`${COPY}: uploaded`);
    expect(r.code).toBe(0);
    expect(offsiteMs(r.stderr, c.container)).toBeLessThan(20_000);
    expectNoSecret(r.stdout, r.stderr);

    const [local] = c.localBackups();
    const key = `${c.prefix}/${c.svc}/${local!.archive.split("/").pop()}`;
    expect(await rcloneClient(server).sha256(BUCKET, key)).toBe(fileSha256(local!.archive));
    // Each faulted part went again, in the same upload; the others once.
    const uploadIds = new Set(parts().map((p) => p.params.get("uploadId")));
    expect(uploadIds.size).toBe(1);
    const sent = tries(parts());
    const expected = Object.fromEntries(Object.keys(sent).map((n) => [n, Number(n) <= 4 ? 2 : 1]));
    expect(Object.keys(sent).length).toBeGreaterThan(4);
    expect(sent).toEqual(expected);
    expect(parts().map((p) => p.fault ?? p.status)).toContain("stall");
    expect(parts().filter((p) => p.status === 200)).toHaveLength(Object.keys(sent).length);
    expect(await listedOffsite(c)).toEqual([local!.id]);
    expect(journaledUploads(c.project.stateHome, COPY)).toEqual([]);
  });

  test("a server that always fails: exit 1, the local backup intact, nothing partial listed", async () => {
    const c = newCase(2);
    proxy.fail({ match: () => true, action: { kind: "error", status: 500, code: "InternalError" } });

    const r = await c.run(["backup", c.svc], { env: { TOOLS_BACKUP_OFFSITE_TIMEOUT: "2" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${c.svc}: offsite copy ${COPY} failed:`);
    expect(r.stderr).toContain("InternalError");
    expect(r.stderr).toContain("the local backups are intact");
    expect(offsiteMs(r.stderr, c.container)).toBeLessThan(20_000);
    expectNoSecret(r.stdout, r.stderr);
    expect(isRunning(c.container)).toBe(true);
    // Every answer was the injected 500: the retries went to the proxy, none through.
    expect(proxy.requests.length).toBeGreaterThan(1);
    expect(proxy.requests.every((q) => q.status === 500)).toBe(true);

    proxy.clear();
    const [local] = c.localBackups();
    const listed = await c.run(["list", c.svc, "--json"]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: local!.id, locations: ["local"] })]);
    const verified = await c.run(["verify", c.svc]);
    expect(verified.code).toBe(0);
    expect(await listedOffsite(c)).toEqual([]);
    expect(await objects(c)).toEqual([]);
  });
});

describe("SIGKILL during an upload", () => {
  test("nothing partial is listed; the next run uploads the backup and aborts the orphan by id", async () => {
    const c = newCase(20);
    // Parts never get an answer, so the run is surely mid-upload when it is killed.
    proxy.fail({ match: { method: "PUT", query: { partNumber: true } }, action: { kind: "stall" } });
    const first = start(["backup", c.svc, ...c.project.args], {
      stateHome: c.project.stateHome,
      env: { TOOLS_BACKUP_OFFSITE_TIMEOUT: "60" },
    });
    expect(await waitFor(() => parts().length > 0, 60_000)).toBe(true);
    const orphan = parts()[0]!.params.get("uploadId")!;
    first.child.kill("SIGKILL");
    expect((await first.done).signal).toBe("SIGKILL");
    proxy.clear();

    expect(isRunning(c.container)).toBe(true);
    expect(await listedOffsite(c)).toEqual([]);
    expect(await objects(c)).toEqual([]);
    const [killed] = c.localBackups();
    const archiveKey = `${c.svc}/${killed!.archive.split("/").pop()}`;
    expect(journaledUploads(c.project.stateHome, COPY)).toEqual([
      expect.objectContaining({ key: archiveKey, uploadId: orphan }),
    ]);

    const next = await c.run(["backup", c.svc], { env: { TOOLS_BACKUP_OFFSITE_TIMEOUT: "2" } });
    expect(next.code).toBe(0);
    expect(offsiteMs(next.stderr, c.container)).toBeLessThan(20_000);
    expectNoSecret(next.stdout, next.stderr);
    const aborts = proxy.requests.filter((q) => q.method === "DELETE" && q.params.get("uploadId") === orphan);
    expect(aborts.map((q) => [q.path, q.status])).toEqual([[`/${BUCKET}/${c.prefix}/${archiveKey}`, 405]]);
    expect(next.stderr).toContain(`${COPY}: the server cannot abort the unfinished upload of ${archiveKey}`);
    expect(journaledUploads(c.project.stateHome, COPY)).toEqual([]);
    expect(await rcloneClient(server).sha256(BUCKET, `${c.prefix}/${archiveKey}`)).toBe(fileSha256(killed!.archive));
    const all = c.localBackups().map((b) => b.id);
    expect(all).toHaveLength(2);
    expect((await listedOffsite(c)).sort()).toEqual(all.sort());
  });
});
