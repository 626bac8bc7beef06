/**
 * An encrypted archive whose content fails at its very start: verify --deep and restore name what
 * is wrong with it, and its real size and sha256, not those of an empty file.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { cleanupCliTemp } from "../helpers/cli.ts";
import { cleanupDocker, isRunning, startedAt } from "../helpers/docker.ts";
import { readJson } from "../helpers/project.ts";
import { backupOk, cleanupApps, type Listed, type Svc, service, tb } from "../helpers/restore-kit.ts";

setDefaultTimeout(120_000);

const EMPTY_SHA256 = createHash("sha256").digest("hex");
let s: Svc;
let good: { archive: Buffer; manifest: string };
let b: Listed;

beforeAll(async () => {
  const identity = await generateIdentity();
  s = service({ what: "encverify" });
  const key = path.join(s.p.root, "backup.key");
  fs.writeFileSync(key, `${identity}\n`, { mode: 0o600 });
  const recipients = [await identityToRecipient(identity)];
  s.p.writeConfig({ services: { [s.name]: true }, encryption: { recipients, identity: key } });
  b = backupOk(s);
  good = { archive: fs.readFileSync(b.file), manifest: fs.readFileSync(b.manifest, "utf8") };
});

afterAll(() => {
  cleanupApps();
  cleanupDocker();
  cleanupCliTemp();
});

/** The archive as `bytes`, with a manifest that says exactly these bytes were written. */
function writtenAs(bytes: Buffer): void {
  fs.writeFileSync(b.file, bytes);
  const m = JSON.parse(good.manifest);
  m.archive.sha256 = createHash("sha256").update(bytes).digest("hex");
  m.archive.bytes = bytes.length;
  fs.writeFileSync(b.manifest, JSON.stringify(m, null, 2));
}

test("a first chunk that does not authenticate, the file as written: that alone is the problem", () => {
  const bytes = Buffer.from(good.archive);
  const header = bytes.indexOf("\n", bytes.indexOf("\n---") + 1) + 1;
  bytes[header + 16 + 100]! ^= 1;
  writtenAs(bytes);
  const started = startedAt(s.container!);
  for (const args of [
    ["verify", s.name, "--deep"],
    ["restore", s.name, "--yes"],
  ]) {
    const r = tb(s, args);
    expect({ args, code: r.code }).toEqual({ args, code: 1 });
    expect(r.stderr).toContain("its first chunk does not authenticate");
    expect(r.stderr).not.toContain("size is 0 bytes");
    expect(r.stderr).not.toContain(EMPTY_SHA256);
    expect(r.stderr).not.toMatch(/sha256 is|size is/);
  }
  expect(startedAt(s.container!)).toBe(started);
  expect(isRunning(s.container!)).toBe(true);
});

test("a file cut within its header: the size and sha256 it really has", () => {
  fs.writeFileSync(b.manifest, good.manifest);
  const cut = good.archive.subarray(0, 60);
  fs.writeFileSync(b.file, cut);
  const r = tb(s, ["verify", s.name, "--deep"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("it ends within its age header (truncated)");
  expect(r.stderr).toContain(`size is 60 bytes, the manifest says ${good.archive.length}`);
  const sha = createHash("sha256").update(cut).digest("hex");
  expect(r.stderr).toContain(`sha256 is ${sha}, the manifest says ${readJson(b.manifest).archive.sha256}`);
  expect(r.stderr).not.toContain(EMPTY_SHA256);
});
