/** The S3 client's pure parts: addresses, XML answers, key files, failure messages. */
import { expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseEnvFile, resolveCredentials } from "../../src/offsite/s3/credentials.ts";
import { answerFailure, networkFailure } from "../../src/offsite/s3/failure.ts";
import { S3Http } from "../../src/offsite/s3/http.ts";
import { partSize } from "../../src/offsite/s3/multipart.ts";
import { decodeXml, elements, escapeXml, textOf } from "../../src/offsite/s3/xml.ts";

const keys = { accessKeyId: "K", secretAccessKey: "S" };
const target = { copy: "c", bucket: "my-bucket", pathStyle: false, timeoutSeconds: 5 };

test("addresses: virtual-hosted on AWS by default, path-style on request and for dotted bucket names", () => {
  expect(new S3Http({ ...target, region: "eu-west-1" }, keys).url("svc/a b.json")).toBe(
    "https://my-bucket.s3.eu-west-1.amazonaws.com/svc/a%20b.json",
  );
  expect(new S3Http(target, keys).url("", { "list-type": "2", prefix: "p/" })).toBe(
    "https://my-bucket.s3.us-east-1.amazonaws.com/?list-type=2&prefix=p%2F",
  );
  const minio = new S3Http({ ...target, endpoint: "http://nas.lan:9000", pathStyle: true }, keys);
  expect(minio.url("")).toBe("http://nas.lan:9000/my-bucket");
  expect(minio.url("x/y.tar.zst", { partNumber: "1", uploadId: "u+1" })).toBe(
    "http://nas.lan:9000/my-bucket/x/y.tar.zst?partNumber=1&uploadId=u%2B1",
  );
  expect(new S3Http({ ...target, bucket: "a.b.c", endpoint: "https://s3.example.com" }, keys).url("k")).toBe(
    "https://s3.example.com/a.b.c/k",
  );
});

test("XML: elements, entities both ways", () => {
  const xml =
    "<R><Contents><Key>a&amp;b&#x41;&#66;</Key><Size>3</Size></Contents><Contents><Key>c</Key></Contents></R>";
  expect(elements(xml, "Contents")).toHaveLength(2);
  expect(textOf(xml, "Key")).toBe("a&bAB");
  expect(textOf(xml, "Missing")).toBeUndefined();
  expect(decodeXml(escapeXml(`"<'&'>"`))).toBe(`"<'&'>"`);
});

test("part size: 5 MiB (S3's smallest), growing so that no upload needs more than 10,000 parts", () => {
  const MiB = 1024 * 1024;
  expect(partSize(1)).toBe(5 * MiB);
  expect(partSize(50_000 * MiB)).toBe(5 * MiB);
  expect(Math.ceil((200_000 * MiB) / partSize(200_000 * MiB))).toBeLessThanOrEqual(10_000);
});

test("key files: KEY=value, export, quotes and comments", () => {
  const vars = parseEnvFile("# keys\nexport AWS_ACCESS_KEY_ID=\"AK\"\nAWS_SECRET_ACCESS_KEY = 's=cret'\n\nOTHER=1\n");
  expect(vars).toMatchObject({ AWS_ACCESS_KEY_ID: "AK", AWS_SECRET_ACCESS_KEY: "s=cret" });
});

test("keys: the copy's file first, then AWS_* variables, then ~/.aws/credentials's profile", async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "tbtest-creds-"));
  fs.mkdirSync(path.join(home, ".aws"));
  const ini = "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n[profile backup]\naws_access_key_id = B\n";
  fs.writeFileSync(path.join(home, ".aws", "credentials"), `${ini}aws_secret_access_key = BS\n`);
  const file = path.join(home, "k.env");
  fs.writeFileSync(file, "AWS_ACCESS_KEY_ID=F\nAWS_SECRET_ACCESS_KEY=FS\n");
  const env = { AWS_ACCESS_KEY_ID: "E", AWS_SECRET_ACCESS_KEY: "ES" };
  expect((await resolveCredentials({ copy: "c", file }, env, home)).accessKeyId).toBe("F");
  expect((await resolveCredentials({ copy: "c" }, env, home)).accessKeyId).toBe("E");
  expect((await resolveCredentials({ copy: "c" }, {}, home)).accessKeyId).toBe("D");
  expect((await resolveCredentials({ copy: "c", profile: "backup" }, {}, home)).secretAccessKey).toBe("BS");
  const none = resolveCredentials({ copy: "c", profile: "nope" }, {}, home);
  await expect(none).rejects.toThrow(/c: no S3 keys: .*\[nope\]/);
  fs.rmSync(home, { recursive: true });
});

test("failures say what to do and which ones are worth a retry", () => {
  const err = (code: string) => `<?xml version="1.0"?><Error><Code>${code}</Code><Message>m</Message></Error>`;
  expect(answerFailure("b2", 403, err("SignatureDoesNotMatch"), "upload").message).toMatch(/check the secret/);
  expect(answerFailure("b2", 404, err("NoSuchBucket"), "listing").message).toMatch(/^b2: listing: the bucket does not/);
  expect(answerFailure("b2", 403, err("RequestTimeTooSkewed"), "x").message).toMatch(/clock/);
  expect(answerFailure("b2", 500, err("InternalError"), "x").transient).toBe(true);
  expect(answerFailure("b2", 503, "<html>busy</html>", "x").message).toMatch(/HTTP 503, not an S3 answer/);
  expect(answerFailure("b2", 501, err("NotImplemented"), "x").transient).toBe(false);
  const refused = { code: "ECONNREFUSED", message: "ECONNREFUSED: Unable to connect" };
  expect(networkFailure("b2", "h:1", refused, 5).message).toBe("b2: cannot connect to h:1: connection refused");
  expect(networkFailure("b2", "h", { code: "ENOTFOUND" }, 5).message).toMatch(/cannot resolve h \(DNS\)/);
  expect(networkFailure("b2", "h", { name: "TimeoutError" }, 5).message).toBe("b2: no answer from h within 5 s");
});
