/**
 * Self-tests of the offsite test infrastructure: the s3rver child, the rclone client and the
 * fault proxy must be real and able to fail, or the offsite tests built on them prove nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { AwsClient } from "aws4fetch";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.ts";
import { rcloneClient } from "../helpers/s3-client.ts";
import { type S3Server, startS3Server } from "../helpers/s3-server.ts";

let server: S3Server;
let proxy: FaultProxy;
let signer: AwsClient;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tbtest-s3infra-"));

beforeAll(async () => {
  server = await startS3Server({ buckets: ["infra"] });
  proxy = await startFaultProxy(server.endpoint);
  // aws4fetch retries 5xx ten times by default; the tests want to see each answer once.
  signer = new AwsClient({ ...server, service: "s3", region: "us-east-1", retries: 0 });
});

afterAll(async () => {
  await proxy.stop();
  await server.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && alive(pid); i++) await Bun.sleep(100);
  return !alive(pid);
}

describe("s3rver and rclone", () => {
  test("a file uploaded with rclone reads back with the same sha256 and size", async () => {
    const file = path.join(tmp, "blob.bin");
    fs.writeFileSync(file, Buffer.from(Array.from({ length: 700_000 }, (_, i) => (i * 31) % 251)));
    const want = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    const s3 = rcloneClient(server);
    await s3.putFile("infra", "host-a/svc/blob.bin", file);
    await s3.putString("infra", "host-a/foreign.txt", "not ours");
    expect(await s3.sha256("infra", "host-a/svc/blob.bin")).toBe(want);
    expect(await s3.list("infra", "host-a")).toEqual([
      { key: "host-a/foreign.txt", size: 8 },
      { key: "host-a/svc/blob.bin", size: 700_000 },
    ]);
    await s3.delete("infra", "host-a/foreign.txt");
    expect((await s3.list("infra", "host-a/")).map((e) => e.key)).toEqual(["host-a/svc/blob.bin"]);
    expect(await s3.bucketExists("infra")).toBe(true);
    expect(await s3.bucketExists("missing-bucket")).toBe(false);
  });

  test("a wrong secret gets SignatureDoesNotMatch, a wrong key id InvalidAccessKeyId", async () => {
    const badSecret = await rcloneClient({ ...server, secretAccessKey: "wrong" }).run(["lsjson", "TBS3:infra"]);
    expect(badSecret.code).not.toBe(0);
    expect(badSecret.stderr).toContain("SignatureDoesNotMatch");
    const badId = await rcloneClient({ ...server, accessKeyId: "S3RVER", secretAccessKey: "S3RVER" }).run([
      "lsjson",
      "TBS3:infra",
    ]);
    expect(badId.stderr).toContain("InvalidAccessKeyId");
  });

  test("unsigned requests are refused; a skewed clock gets RequestTimeTooSkewed", async () => {
    const anon = await fetch(`${server.endpoint}/infra?list-type=2`);
    expect(anon.status).toBe(403);
    expect(await anon.text()).toContain("AccessDenied");
    const old = await signer.fetch(`${server.endpoint}/infra?list-type=2`, { aws: { datetime: "20200101T000000Z" } });
    expect(old.status).toBe(403);
    expect(await old.text()).toContain("RequestTimeTooSkewed");
  });

  test("buckets can be created and deleted while the server runs, and survive a restart", async () => {
    const s3 = rcloneClient(server);
    await server.createBucket("later");
    await s3.putString("later", "k", "v");
    const pid = server.pid;
    await server.restart();
    expect(await gone(pid)).toBe(true);
    expect(await s3.sha256("later", "k")).toBe(createHash("sha256").update("v").digest("hex"));
    await server.deleteBucket("later");
    expect(await s3.bucketExists("later")).toBe(false);
  });
});

describe("fault proxy", () => {
  const put = (key: string, body: string | Uint8Array, signal?: AbortSignal) =>
    signer.fetch(`${proxy.url}/infra/${key}`, { method: "PUT", body, signal });

  test("records requests in order and passes a configured 500 to the client", async () => {
    proxy.clear();
    const rule = proxy.fail({
      match: { method: "PUT", query: { partNumber: "2" } },
      action: { kind: "error", status: 500, code: "InternalError" },
      times: 1,
    });
    // s3rver takes parts for an upload id it never issued.
    expect((await put("p?partNumber=1&uploadId=u1", "a")).status).toBe(200);
    const failed = await put("p?partNumber=2&uploadId=u1", "b");
    expect(failed.status).toBe(500);
    expect(await failed.text()).toContain("<Code>InternalError</Code>");
    expect((await put("p?partNumber=2&uploadId=u1", "b")).status).toBe(200);
    expect((await put("plain.txt", "ok")).status).toBe(200);
    expect(rule.hits).toBe(1);
    expect(proxy.requests.map((r) => [r.method, r.path, r.query, r.status, r.fault])).toEqual([
      ["PUT", "/infra/p", "partNumber=1&uploadId=u1", 200, undefined],
      ["PUT", "/infra/p", "partNumber=2&uploadId=u1", 500, "error"],
      ["PUT", "/infra/p", "partNumber=2&uploadId=u1", 200, undefined],
      ["PUT", "/infra/plain.txt", "", 200, undefined],
    ]);
    expect(proxy.requests[1]?.params.get("uploadId")).toBe("u1");
  });

  test("a stall makes a client with a short timeout give up", async () => {
    proxy.clear();
    proxy.fail({ match: { path: "/infra/stalled" }, action: { kind: "stall" } });
    const started = Date.now();
    await expect(put("stalled", "x", AbortSignal.timeout(500))).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(proxy.requests[0]).toMatchObject({ path: "/infra/stalled", status: 0, fault: "stall" });
  });

  test("a reset mid-body fails the upload and stores nothing", async () => {
    proxy.clear();
    proxy.fail({ match: { method: "PUT" }, action: { kind: "reset-mid-body" }, times: 1 });
    await expect(put("cut.bin", new Uint8Array(2_000_000).fill(9))).rejects.toThrow();
    expect(await rcloneClient(server).list("infra", "")).not.toContainEqual(
      expect.objectContaining({ key: "cut.bin" }),
    );
  });

  test("a reset before the response fails the client although the server stored the object", async () => {
    proxy.clear();
    proxy.fail({ match: { method: "PUT" }, action: { kind: "reset-before-response" }, times: 1 });
    await expect(put("lost-answer.txt", "stored")).rejects.toThrow();
    expect(await rcloneClient(server).list("infra", "")).toContainEqual({ key: "lost-answer.txt", size: 6 });
  });

  test("garbage and NotImplemented answers reach the client", async () => {
    proxy.clear();
    proxy.fail({ match: { query: { uploads: true }, method: "GET" }, action: { kind: "not-implemented" } });
    proxy.fail({ match: (r) => r.path === "/infra/junk", action: { kind: "garbage" } });
    const ni = await signer.fetch(`${proxy.url}/infra?uploads`);
    expect([ni.status, await ni.text()]).toEqual([501, expect.stringContaining("<Code>NotImplemented</Code>")]);
    const junk = await signer.fetch(`${proxy.url}/infra/junk`);
    expect(junk.status).toBe(200);
    expect(await junk.text()).not.toContain("<");
  });
});

test("stop() ends the server process and closes its port", async () => {
  const own = await startS3Server();
  expect(await portOpen(own.port)).toBe(true);
  await own.stop();
  expect(await portOpen(own.port)).toBe(false);
  expect(alive(own.pid)).toBe(false);
  expect(fs.existsSync(own.dir)).toBe(false);
});

test("the server process exits when the test process dies", async () => {
  const helper = path.join(import.meta.dir, "..", "helpers", "s3-server.ts");
  const start = `startS3Server({ dir: ${JSON.stringify(path.join(tmp, "orphan"))} })`;
  const code = `const s = await (await import(${JSON.stringify(helper)})).${start}; console.log(s.pid);`;
  const runner = Bun.spawn([process.execPath, "-e", `${code} setInterval(() => {}, 1000);`], { stdout: "pipe" });
  const reader = runner.stdout.getReader();
  const pid = Number(new TextDecoder().decode((await reader.read()).value).trim());
  expect(alive(pid)).toBe(true);
  runner.kill("SIGKILL");
  expect(await gone(pid)).toBe(true);
});
