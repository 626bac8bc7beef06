/**
 * Encryption with an S3 offsite copy, through the binary against the real engine and the test S3
 * server: the bucket gets the encrypted file (byte-equal to the local .age archive), `verify
 * --offsite` passes, and a new machine with an empty backup_dir and the identity restores from it.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import type { RunResult } from "../helpers/cli.ts";
import { checksums, fillVolume, isRunning, startedAt } from "../helpers/docker.ts";
import { BUCKET, copyEntry, expectNoSecret, keyFile, useS3Server } from "../helpers/offsite-kit.ts";
import { filesIn, makeProject, readJson } from "../helpers/project.ts";
import { FILL, type Listed, type Svc, service, state, tb } from "../helpers/restore-kit.ts";
import { type RcloneClient, REMOTE } from "../helpers/s3-client.ts";
import type { S3Server } from "../helpers/s3-server.ts";

setDefaultTimeout(150_000);

let server: S3Server;
let s3: RcloneClient;
useS3Server((started, client) => {
  server = started;
  s3 = client;
});

const IDENTITY = await generateIdentity();
const RECIPIENT = await identityToRecipient(IDENTITY);
/** Random bytes, so the archive is not mostly zeros and a wrong byte anywhere shows. */
const CONTENT = `${FILL}dd if=/dev/urandom of=random.bin bs=64k count=8 2>/dev/null\n`;
const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** The binary for this service's project; no run may show the secret access key or the identity. */
function tbx(s: Svc, args: string[]): RunResult {
  const r = tb(s, args);
  expectNoSecret(server, r);
  expect(r.stdout + r.stderr).not.toContain(IDENTITY);
  return r;
}

/** backup.yaml: the service, copy "b2" at `prefix`, and encryption to RECIPIENT with the identity file beside it. */
function configure(s: Svc, prefix: string, opts: { identity?: boolean } = {}): void {
  const identity = path.join(s.p.root, "backup.key");
  fs.writeFileSync(identity, `# public key: ${RECIPIENT}\n${IDENTITY}\n`, { mode: 0o600 });
  s.p.writeConfig({
    services: { [s.name]: true },
    offsite: [copyEntry(server, "b2", prefix, keyFile(s.p.root, server))],
    encryption: { recipients: [RECIPIENT], ...(opts.identity === false ? {} : { identity }) },
  });
}

function listed(s: Svc): (Listed & { locations: string[] })[] {
  const r = tbx(s, ["list", s.name, "--json"]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

/** An object's first bytes, read back with rclone (an S3 client independent of the product). */
async function headOf(key: string, bytes: number): Promise<string> {
  const r = await s3.run(["cat", "--count", String(bytes), `${REMOTE}:${BUCKET}/${key}`]);
  expect(r.code).toBe(0);
  return r.stdout;
}

test("the bucket gets the encrypted archive, verify --offsite passes, a new machine restores it byte-exact", async () => {
  const s = service({ fill: CONTENT, what: "encoff" });
  const prefix = `enc-${randomBytes(3).toString("hex")}`;
  configure(s, prefix);
  const r = tbx(s, ["backup", s.name]);
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  const [b] = listed(s);
  expect(b!.locations).toEqual(["local", "b2"]);
  expect(b!.file).toEndWith(".tar.zst.age");

  // In the bucket: the archive exactly as backup_dir has it, ciphertext, and its manifest.
  const archiveKey = `${prefix}/${s.name}/${path.basename(b!.file)}`;
  const manifestKey = `${prefix}/${s.name}/${b!.id}.json`;
  const objects = await s3.list(BUCKET, prefix);
  expect(objects).toEqual([
    { key: manifestKey, size: fs.statSync(b!.manifest).size },
    { key: archiveKey, size: fs.statSync(b!.file).size },
  ]);
  expect(await s3.sha256(BUCKET, archiveKey)).toBe(sha256(b!.file));
  expect(await headOf(archiveKey, 22)).toBe("age-encryption.org/v1\n");
  const remoteManifest = JSON.parse((await s3.run(["cat", `${REMOTE}:${BUCKET}/${manifestKey}`])).stdout);
  expect(remoteManifest.archive.encryption).toEqual({
    format: "age-encryption.org/v1",
    recipients: [RECIPIENT],
    passphrase: false,
  });
  expect(remoteManifest.archive.sha256).toBe(sha256(b!.file));

  const verified = tbx(s, ["verify", s.name, "--offsite", "b2"]);
  expect({ code: verified.code, stderr: verified.stderr }).toMatchObject({ code: 0 });
  expect(verified.stderr).toContain(b!.id);

  // A new machine: services/, backup.yaml with the identity, an empty backup_dir, its own state.
  const sums = checksums(s.vol);
  const before = state(s.vol);
  fillVolume(s.vol, "echo changed > keep.txt && rm -r sub random.bin && echo new > new.txt");
  const m: Svc = { ...s, p: makeProject({ services: { [s.name]: [{ name: s.vol, container: s.container! }] } }) };
  configure(m, prefix);
  expect(filesIn(m.p.backupDir)).toEqual([]);
  const restored = tbx(m, ["restore", s.name, "--yes"]);
  expect({ code: restored.code, stderr: restored.stderr }).toMatchObject({ code: 0 });
  expect(restored.stderr).toContain(`b2: fetched ${b!.id}`);
  expect(restored.stderr).toContain(`${s.name} restored from ${b!.id}`);
  expect(checksums(s.vol)).toEqual(sums);
  expect(state(s.vol)).toEqual(before);
  expect(isRunning(s.container!)).toBe(true);
  const fetched = path.join(m.p.serviceFolder(s.name), path.basename(b!.file));
  expect(sha256(fetched)).toBe(sha256(b!.file));
  expect(readJson(path.join(m.p.serviceFolder(s.name), `${b!.id}.json`))).toEqual(readJson(b!.manifest));
  // The new machine's safety backup is encrypted too; its identity opens both to the end.
  const safety = listed(m).find((x) => x.kind === "pre-restore")!;
  expect(safety.file).toEndWith(".tar.zst.age");
  const deep = tbx(m, ["verify", s.name, "--deep"]);
  expect({ code: deep.code, stderr: deep.stderr }).toMatchObject({ code: 0 });
  expect(deep.stderr).toContain(safety.id);
});

test("a new machine without the identity is refused before anything stops", () => {
  const s = service({ fill: CONTENT, what: "encoff" });
  const prefix = `enc-${randomBytes(3).toString("hex")}`;
  configure(s, prefix);
  expect(tbx(s, ["backup", s.name]).code).toBe(0);
  const [b] = listed(s);

  const m: Svc = { ...s, p: makeProject({ services: { [s.name]: [{ name: s.vol, container: s.container! }] } }) };
  configure(m, prefix, { identity: false });
  const started = startedAt(s.container!);
  const r = tbx(m, ["restore", s.name, "--yes", "--no-safety-backup"]);
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 2 });
  expect(r.stderr).toContain(`${b!.id} is encrypted`);
  expect(r.stderr).toContain("encryption.identity");
  expect(r.stderr).not.toMatch(/stopping/);
  expect(startedAt(s.container!)).toBe(started);
  expect(isRunning(s.container!)).toBe(true);
});
