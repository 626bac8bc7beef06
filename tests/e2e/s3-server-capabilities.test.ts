/**
 * What the test S3 server (@20minutes/s3rver 5.0.0 behind tests/helpers/s3-server.ts) does and
 * does not implement, pinned down with small signed requests, so the offsite tests know which
 * behaviour they can take from it and which they must check at the protocol level (fault proxy).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import http from "node:http";
import { AwsClient } from "aws4fetch";
import { rcloneClient } from "../helpers/s3-client.ts";
import { type S3Server, startS3Server } from "../helpers/s3-server.ts";

let server: S3Server;
let s3: AwsClient;
let url: (path: string) => string;
const sha = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

beforeAll(async () => {
  server = await startS3Server({ buckets: ["caps"] });
  s3 = new AwsClient({ ...server, service: "s3", region: "us-east-1", retries: 0 });
  url = (path) => `${server.endpoint}/caps/${path}`;
});

afterAll(() => server.stop());

async function status(res: Response): Promise<[number, string]> {
  const text = await res.text();
  return [res.status, /<Code>(.*?)<\/Code>/.exec(text)?.[1] ?? ""];
}

async function createUpload(key: string): Promise<string> {
  const res = await s3.fetch(`${url(key)}?uploads`, { method: "POST" });
  expect(res.status).toBe(200);
  return /<UploadId>(.*?)<\/UploadId>/.exec(await res.text())![1]!;
}

describe("multipart uploads", () => {
  test("Create, UploadPart and Complete give the exact object", async () => {
    const parts = [new Uint8Array(5 * 1024 * 1024).fill(1), new TextEncoder().encode("tail")];
    const id = await createUpload("mp.bin");
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      const res = await s3.fetch(`${url("mp.bin")}?partNumber=${i + 1}&uploadId=${id}`, { method: "PUT", body });
      expect(res.status).toBe(200);
      etags.push(res.headers.get("etag")!);
    }
    const list = etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join("");
    const body = `<CompleteMultipartUpload>${list}</CompleteMultipartUpload>`;
    expect((await s3.fetch(`${url("mp.bin")}?uploadId=${id}`, { method: "POST", body })).status).toBe(200);
    const whole = new Uint8Array([...parts[0]!, ...parts[1]!]);
    expect(await rcloneClient(server).sha256("caps", "mp.bin")).toBe(sha(whole));
  });

  test("ListMultipartUploads answers 501 NotImplemented", async () => {
    expect(await status(await s3.fetch(`${server.endpoint}/caps?uploads`))).toEqual([501, "NotImplemented"]);
  });

  test("AbortMultipartUpload and ListParts answer 405 MethodNotAllowed, not NotImplemented", async () => {
    const id = await createUpload("aborted.bin");
    const abort = await s3.fetch(`${url("aborted.bin")}?uploadId=${id}`, { method: "DELETE" });
    expect(await status(abort)).toEqual([405, "MethodNotAllowed"]);
    expect(await status(await s3.fetch(`${url("aborted.bin")}?uploadId=${id}`))).toEqual([405, "MethodNotAllowed"]);
  });
});

describe("objects", () => {
  test("ListObjectsV2 pages by max-keys and continuation-token under a prefix", async () => {
    for (const k of ["pg/a", "pg/b", "pg/c", "other/d"]) {
      expect((await s3.fetch(url(k), { method: "PUT", body: k })).status).toBe(200);
    }
    const page = async (token?: string) => {
      const q = `list-type=2&prefix=pg%2F&max-keys=2${token ? `&continuation-token=${encodeURIComponent(token)}` : ""}`;
      const text = await (await s3.fetch(`${server.endpoint}/caps?${q}`)).text();
      const keys = [...text.matchAll(/<Key>(.*?)<\/Key>/g)].map((m) => m[1]);
      return { keys, next: /<NextContinuationToken>(.*?)<\/NextContinuationToken>/.exec(text)?.[1] };
    };
    const first = await page();
    expect(first.keys).toEqual(["pg/a", "pg/b"]);
    const second = await page(first.next);
    expect(second).toEqual({ keys: ["pg/c"], next: undefined });
  });

  test("HeadObject and DeleteObject work; deleting a missing key is 204 too", async () => {
    await s3.fetch(url("h.txt"), { method: "PUT", body: "hello" });
    const head = await s3.fetch(url("h.txt"), { method: "HEAD" });
    expect([head.status, head.headers.get("content-length")]).toEqual([200, "5"]);
    expect((await s3.fetch(url("h.txt"), { method: "DELETE" })).status).toBe(204);
    expect((await s3.fetch(url("h.txt"), { method: "HEAD" })).status).toBe(404);
    expect((await s3.fetch(url("never-there"), { method: "DELETE" })).status).toBe(204);
  });
});

describe("signing", () => {
  test("UNSIGNED-PAYLOAD is accepted while signatures are verified", async () => {
    const headers = { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" };
    expect((await s3.fetch(url("u.txt"), { method: "PUT", body: "u", headers })).status).toBe(200);
    const wrong = new AwsClient({ ...server, secretAccessKey: "wrong", service: "s3", retries: 0 });
    const refused = await wrong.fetch(url("u2.txt"), { method: "PUT", body: "u", headers });
    expect(await status(refused)).toEqual([403, "SignatureDoesNotMatch"]);
  });

  test("a payload whose sha256 differs from x-amz-content-sha256 is still stored (not checked)", async () => {
    const headers = { "x-amz-content-sha256": sha("something else") };
    expect((await s3.fetch(url("mismatch.txt"), { method: "PUT", body: "abc", headers })).status).toBe(200);
  });

  test("aws-chunked bodies are decoded; chunk signatures are not checked", async () => {
    const data = new Uint8Array(9000).fill(7);
    const fake = "0".repeat(64);
    const head = new TextEncoder().encode(`2328;chunk-signature=${fake}\r\n`);
    const tail = new TextEncoder().encode(`\r\n0;chunk-signature=${fake}\r\n\r\n`);
    const body = new Uint8Array([...head, ...data, ...tail]);
    const headers = {
      "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": String(data.length),
    };
    expect((await s3.fetch(url("chunked.bin"), { method: "PUT", body, headers })).status).toBe(200);
    expect(await rcloneClient(server).sha256("caps", "chunked.bin")).toBe(sha(data));
  });

  test("virtual-hosted addressing routes by Host, but SigV4 only passes with /bucket in the signed path", async () => {
    await s3.fetch(url("vh.txt"), { method: "PUT", body: "vh" });
    const host = `caps.s3.amazonaws.com:${server.port}`;
    // Signed for the virtual host, sent to the loopback port with that Host and the path /vh.txt.
    const send = async (signedPath: string) => {
      const headers = Object.fromEntries((await s3.sign(`http://${host}${signedPath}`)).headers);
      return new Promise<{ code: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port: server.port, path: "/vh.txt", headers }, (r) => {
          let body = "";
          r.on("data", (d) => (body += d)).on("end", () => resolve({ code: r.statusCode ?? 0, body }));
        });
        req.setHeader("host", host);
        req.on("error", reject).end();
      });
    };
    const asAws = await send("/vh.txt");
    expect(asAws.code).toBe(403);
    expect(asAws.body).toContain("SignatureDoesNotMatch");
    expect(await send("/caps/vh.txt")).toEqual({ code: 200, body: "vh" });
  });
});
