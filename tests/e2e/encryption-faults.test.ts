/**
 * Encrypted archives that must not be restored, through the compiled binary and the real engine:
 * a wrong or missing identity (exit 2), a flipped byte, a truncated file, a header stanza taken
 * from another archive (exit 1). Each refused before anything stops: the container keeps running
 * (its StartedAt unchanged), the volume unchanged, no safety backup made. And `verify`, with and
 * without the identity, on intact and tampered archives.
 */
import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import { type AgeKey, ageKeygen, payloadStart, stanzaLines } from "../helpers/age-cli.ts";
import { cleanupCliTemp, type RunResult } from "../helpers/cli.ts";
import { cleanupDocker, fillVolume, isRunning, leftoverHelpers, startedAt } from "../helpers/docker.ts";
import { agreeManifest, encryptedService, setEncryption } from "../helpers/encryption-kit.ts";
import { backupOk, cleanupApps, type Listed, listed, type Svc, state, tb } from "../helpers/restore-kit.ts";

setDefaultTimeout(150_000);
afterEach(() => {
  cleanupApps();
  cleanupDocker();
});
afterAll(cleanupCliTemp);

/** One sealed chunk: 64 KiB and its 16-byte tag. */
const SEALED = 64 * 1024 + 16;

interface Case {
  s: Svc;
  key: AgeKey;
  b: Listed;
  /** The volume as it is after the backup: a refused restore leaves it so. */
  current: ReturnType<typeof state>;
  started: string;
}

/** A service backed up encrypted for `key`, then changed. */
function backedUp(): Case {
  const key = ageKeygen();
  const s = encryptedService({ recipients: [key.recipient], identity: key.file });
  const b = backupOk(s);
  fillVolume(s.vol, "echo added > added.txt && echo changed > modify.txt");
  return { s, key, b, current: state(s.vol), started: startedAt(s.container!) };
}

/** The restore was refused with `code` before the stop: nothing stopped, changed or made. */
function refusedBeforeStop(c: Case, r: RunResult, code: number, message: RegExp): void {
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code, stderr: expect.stringMatching(message) });
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/stopping /);
  expect(isRunning(c.s.container!)).toBe(true);
  expect(startedAt(c.s.container!)).toBe(c.started);
  expect(state(c.s.vol)).toEqual(c.current);
  expect(listed(c.s).filter((x) => x.kind === "pre-restore")).toEqual([]);
  expect(leftoverHelpers(c.s.name)).toEqual([]);
}

const restore = (c: Case, ...more: string[]) => tb(c.s, ["restore", c.s.name, "--yes", "--from", c.b.id, ...more]);

describe("a key the user must supply: exit 2, nothing stopped", () => {
  test("wrong identity: says none of the identities opens it, and whose key it needs", () => {
    const c = backedUp();
    setEncryption(c.s, { identity: ageKeygen().file });
    const r = restore(c);
    refusedBeforeStop(c, r, 2, /is encrypted and none of the identities opens it/);
    expect(r.stderr).toContain(`the key of ${c.key.recipient}`);
  });

  test("no identity configured: encryption turned off, or recipients only", () => {
    const c = backedUp();
    setEncryption(c.s, undefined);
    refusedBeforeStop(c, restore(c), 2, /is encrypted: opening it needs encryption\.identity/);
    setEncryption(c.s, { recipients: [c.key.recipient] });
    refusedBeforeStop(c, restore(c, "--no-safety-backup"), 2, /opening it needs encryption\.identity/);
    // With a safety backup, that backup could not be opened again either: refused for that first.
    refusedBeforeStop(c, restore(c), 2, /no identity in .* opens it \(a failed restore could not be undone\)/);
  });
});

describe("a damaged archive: exit 1, refused before the stop", () => {
  test("a byte flipped in the middle: the sha256 differs; with the manifest agreeing, age's tag fails", () => {
    const c = backedUp();
    const bytes = fs.readFileSync(c.b.file);
    const middle = payloadStart(bytes) + SEALED + 1000;
    expect(bytes.length).toBeGreaterThan(middle + SEALED);
    bytes[middle]! ^= 0x40;
    fs.writeFileSync(c.b.file, bytes);
    refusedBeforeStop(c, restore(c), 1, /cannot be restored: .*sha256 is/);
    agreeManifest(c.b.manifest, c.b.file);
    refusedBeforeStop(c, restore(c), 1, new RegExp(`does not authenticate at byte ${payloadStart(bytes) + SEALED}`));
  });

  test("a truncated file: refused as truncated, also when cut at a chunk's end and the manifest agrees", () => {
    const c = backedUp();
    const bytes = fs.readFileSync(c.b.file);
    fs.writeFileSync(c.b.file, bytes.subarray(0, bytes.length - 1000));
    refusedBeforeStop(c, restore(c), 1, /size is \d+ bytes, the manifest says \d+ \(incomplete download or truncated/);
    fs.writeFileSync(c.b.file, bytes.subarray(0, payloadStart(bytes) + 2 * SEALED));
    agreeManifest(c.b.manifest, c.b.file);
    refusedBeforeStop(c, restore(c), 1, /ends after a chunk that is not its last \(truncated\)/);
  });

  // The configured identity is the one the manifest records: the file was altered, not the
  // configuration wrong, so telling the user to set encryption.identity would send them astray.
  test("a header stanza from another key's archive: exit 1 (altered file, not a wrong key), with either identity", () => {
    const c = backedUp();
    const other = ageKeygen();
    setEncryption(c.s, { identity: other.file });
    const foreign = backupOk(c.s);
    const bytes = fs.readFileSync(c.b.file);
    const ours = stanzaLines(bytes);
    const theirs = stanzaLines(fs.readFileSync(foreign.file));
    expect(ours.toString()).toStartWith("-> X25519 ");
    expect(theirs.toString()).toStartWith("-> X25519 ");
    const start = bytes.indexOf(ours);
    fs.writeFileSync(c.b.file, Buffer.concat([bytes.subarray(0, start), theirs, bytes.subarray(start + ours.length)]));
    c.started = startedAt(c.s.container!); // that backup stopped it

    // The other key unwraps its stanza, but the MAC over this header fails.
    refusedBeforeStop(c, restore(c), 1, /its age header is damaged/);
    setEncryption(c.s, { recipients: [c.key.recipient], identity: c.key.file });
    refusedBeforeStop(c, restore(c), 1, /cannot be restored: .*\(the header was altered or replaced\)/);
    // Not even once the manifest's size and sha256 agree with the altered file.
    agreeManifest(c.b.manifest, c.b.file);
    refusedBeforeStop(c, restore(c), 1, /cannot be restored: .*\(the header was altered or replaced\)/);
  });
});

describe("verify", () => {
  test("without the identity: ok for an intact encrypted archive (size and sha256), fails a tampered one", () => {
    const c = backedUp();
    setEncryption(c.s, { recipients: [c.key.recipient] });
    const ok = tb(c.s, ["verify", c.s.name]);
    expect({ code: ok.code, stderr: ok.stderr }).toMatchObject({ code: 0 });
    expect(ok.stderr).toContain(`${c.b.id}: ok (encrypted: size and sha256 checked`);
    expect(tb(c.s, ["verify", c.s.name, "--deep"]).code).toBe(2);

    const bytes = fs.readFileSync(c.b.file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    fs.writeFileSync(c.b.file, bytes);
    const bad = tb(c.s, ["verify", c.s.name]);
    expect({ code: bad.code, stderr: bad.stderr }).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/sha256 is/),
    });
  });

  // Nothing of the file was read when its header did not open: a size of 0 bytes and the empty
  // file's sha256 would call a good archive truncated.
  test("--deep with an identity that opens no stanza, or a tampered first chunk: says so, and no false size or sha256", () => {
    const c = backedUp();
    setEncryption(c.s, { identity: ageKeygen().file });
    const r = tb(c.s, ["verify", c.s.name, "--deep"]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/unreadable: none of the identities opens it/),
    });
    expect(r.stderr).not.toMatch(/size is|sha256 is/);

    setEncryption(c.s, { identity: c.key.file });
    const bytes = fs.readFileSync(c.b.file);
    bytes[payloadStart(bytes) + 10]! ^= 0x01;
    fs.writeFileSync(c.b.file, bytes);
    const bad = tb(c.s, ["verify", c.s.name, "--deep"]);
    expect({ code: bad.code, stderr: bad.stderr }).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/its first chunk does not authenticate; sha256 is [0-9a-f]{64}, the manifest says/),
    });
    expect(bad.stderr).not.toMatch(/size is/);
  });

  test("--deep catches a tampered chunk whose sha256 was rewritten in the manifest; plain verify cannot", () => {
    const c = backedUp();
    const deep = tb(c.s, ["verify", c.s.name, "--deep"]);
    expect({ code: deep.code, stderr: deep.stderr }).toMatchObject({ code: 0 });
    expect(deep.stderr).toContain(`${c.b.id}: ok\n`);

    const bytes = fs.readFileSync(c.b.file);
    bytes[payloadStart(bytes) + 2 * SEALED + 5]! ^= 0x01;
    fs.writeFileSync(c.b.file, bytes);
    agreeManifest(c.b.manifest, c.b.file);
    expect(tb(c.s, ["verify", c.s.name]).code).toBe(0);
    const bad = tb(c.s, ["verify", c.s.name, "--deep"]);
    expect({ code: bad.code, stderr: bad.stderr }).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/does not authenticate at byte/),
    });
  });
});
