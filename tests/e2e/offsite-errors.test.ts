/**
 * Offsite copies that cannot take a backup: wrong keys, a missing bucket, an endpoint that is
 * closed or does not resolve, a clock the server refuses, an answer that is not S3's, a bucket
 * without write permission. Each backup run exits 1 naming the copy and what to check, quickly,
 * with the local backup intact and verified, the container running, and no secret in the output.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import net from "node:net";
import { cleanupCliTemp } from "../helpers/cli.ts";
import { cleanupDocker, isRunning } from "../helpers/docker.ts";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.ts";
import { type CopySpec, credentialsFile, journaledUploads, offsiteCase, offsiteMs } from "../helpers/offsite-case.ts";
import { rcloneClient } from "../helpers/s3-client.ts";
import { type S3Server, startS3Server } from "../helpers/s3-server.ts";

setDefaultTimeout(120_000);

const COPY = "offsite1";
const BUCKET = "errors";
let server: S3Server;
/** A second server whose clock runs an hour ahead: every request it gets looks skewed to it. */
let skewed: S3Server;
let proxy: FaultProxy;
let keys: string;

/** Starts a server with Date.now shifted in its Node process (the launcher's skew check reads it). */
async function startSkewedServer(): Promise<S3Server> {
  const saved = process.env.NODE_OPTIONS;
  const shift = encodeURIComponent("const now = Date.now; Date.now = () => now() + 3600000;");
  process.env.NODE_OPTIONS = `--import=data:text/javascript,${shift}`;
  try {
    return await startS3Server({ buckets: [BUCKET] });
  } finally {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  [server, skewed] = await Promise.all([startS3Server({ buckets: [BUCKET] }), startSkewedServer()]);
  proxy = await startFaultProxy(server.endpoint);
  keys = credentialsFile(server);
});
beforeEach(() => proxy.clear());
afterEach(cleanupDocker);
afterAll(async () => {
  await proxy.stop();
  await Promise.all([server.stop(), skewed.stop()]);
  cleanupCliTemp();
});

/**
 * A backup of a small service whose copy fails: exit 1 within 20 s, the copy named with `reason`,
 * the local backup listed and verified, the container running, and no secret in any output.
 */
async function failingBackup(copy: Partial<CopySpec>, reason: RegExp, mib = 1) {
  const spec = { name: COPY, bucket: BUCKET, endpoint: proxy.url, credentials: keys, ...copy };
  const c = offsiteCase(spec, mib);
  const r = await c.run(["backup", c.svc], { env: { TOOLS_BACKUP_OFFSITE_TIMEOUT: "2" } });
  const failure = r.stderr.split("\n").find((l) => l.includes(`offsite copy ${COPY} failed:`)) ?? r.stderr;
  expect(failure).toMatch(reason);
  expect(r.stderr).toContain(`1 offsite upload failed (${c.svc} to ${COPY}); the local backups are intact`);
  expect(r.code).toBe(1);
  // Retries back off 0.25 s to 2 s, 4 times a request: a failing copy is given up on quickly.
  expect(offsiteMs(r.stderr, c.container)).toBeLessThan(20_000);
  expect(isRunning(c.container)).toBe(true);

  const local = c.localBackups();
  expect(local).toHaveLength(1);
  const listed = await c.run(["list", c.svc, "--json"]);
  expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: local[0]!.id, file: local[0]!.archive })]);
  const verified = await c.run(["verify", c.svc]);
  expect(verified.code).toBe(0);
  for (const out of [r, listed, verified]) {
    expect(out.stdout + out.stderr).not.toContain(server.secretAccessKey);
    expect(out.stdout + out.stderr).not.toContain("wrong-secret");
  }
  return { c, r };
}

describe("keys", () => {
  test("a wrong secret: SignatureDoesNotMatch, check the secret access key", async () => {
    const credentials = credentialsFile({ accessKeyId: server.accessKeyId, secretAccessKey: "wrong-secret-0123" });
    await failingBackup({ credentials }, /check the secret access key \(SignatureDoesNotMatch\)/);
  });

  test("a wrong key id: InvalidAccessKeyId, check the keys", async () => {
    const credentials = credentialsFile({ accessKeyId: "NOSUCHKEYID", secretAccessKey: server.secretAccessKey });
    await failingBackup({ credentials }, /access key id is not known to the server: check the keys/);
  });
});

describe("bucket", () => {
  test("a bucket that does not exist", async () => {
    await failingBackup({ bucket: "no-such-bucket" }, /the bucket does not exist \(NoSuchBucket\)/);
    expect(await rcloneClient(server).bucketExists("no-such-bucket")).toBe(false);
  });

  test("a bucket without write permission: access denied", async () => {
    proxy.fail({ match: { method: "PUT" }, action: { kind: "error", status: 403, code: "AccessDenied" } });
    const { c } = await failingBackup({}, /upload of .*: access denied: the keys may not use this bucket/);
    expect(proxy.requests.some((q) => q.method === "PUT" && q.status === 403)).toBe(true);
    expect(await rcloneClient(server).list(BUCKET, c.prefix)).toEqual([]);
  });
});

describe("network", () => {
  test("a closed port: connection refused", async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    await failingBackup({ endpoint }, /cannot connect to 127\.0\.0\.1:\d+: connection refused/);
  });

  test("a host name that does not resolve: cannot resolve", async () => {
    await failingBackup({ endpoint: "http://nosuchhost.invalid:9000" }, /cannot resolve nosuchhost\.invalid:9000/);
  });
});

describe("the server's answers", () => {
  test("a server whose clock is an hour off: RequestTimeTooSkewed, set the clock", async () => {
    await failingBackup(
      { endpoint: skewed.endpoint },
      /clock differs too much from the server's: set the clock \(NTP\) and retry \(RequestTimeTooSkewed\)/,
    );
  });

  test("a listing that is not XML: not S3's", async () => {
    proxy.fail({ match: { method: "GET", query: { "list-type": "2" } }, action: { kind: "garbage" } });
    await failingBackup({}, /listing s3:\/\/errors\/.*: the server's answer is not S3's/);
  });

  test("a multipart completion that is not XML: not S3's, nothing listed", async () => {
    proxy.fail({ match: { method: "POST", query: { uploadId: true } }, action: { kind: "garbage" } });
    const { c } = await failingBackup({}, /completing the upload of .*: the server's answer is not S3's/, 10);
    // Every part was sent (a 10 MiB volume is more than one part), yet nothing is listed.
    expect(proxy.requests.filter((q) => q.method === "PUT" && q.params.has("partNumber")).length).toBeGreaterThan(1);
    expect(await rcloneClient(server).list(BUCKET, c.prefix)).toEqual([]);
    // The server cannot abort (405): the upload id stays for the next run to try again.
    expect(journaledUploads(c.project.stateHome, COPY)).toHaveLength(1);
  });
});
