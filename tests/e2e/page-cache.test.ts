/**
 * A nightly backup must not push the services' own files out of memory: the archives it writes,
 * verifies and restores from do not stay in the page cache afterwards (fincore counts the
 * archive's resident pages). A tmpfs holds its files only in the cache, so there is nothing to test.
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, tempDir } from "../helpers/cli.ts";
import { cleanupDocker } from "../helpers/docker.ts";
import { backupOk, cleanupApps, service, state, tb } from "../helpers/restore-kit.ts";

setDefaultTimeout(120_000);
afterEach(() => {
  cleanupApps();
  cleanupDocker();
});
afterAll(cleanupCliTemp);

const onTmpfs = execFileSync("stat", ["-f", "-c", "%T", tempDir()], { encoding: "utf8" }).trim() === "tmpfs";
const MIB = 1 << 20;

const cachedBytes = (file: string) =>
  Number(execFileSync("fincore", ["-n", "-b", "-o", "RES", file], { encoding: "utf8" }).trim());
const warm = (file: string) => execFileSync("cat", [file], { maxBuffer: 256 * MIB }).length;

test.skipIf(onTmpfs)("backup, verify and restore leave the archive out of the page cache", () => {
  const s = service({
    fill: "dd if=/dev/urandom of=random.bin bs=1M count=40 2>/dev/null && seq 1 2000000 > counts.txt",
  });
  const original = state(s.vol);
  const b = backupOk(s);
  const archive = fs.readdirSync(s.p.serviceFolder(s.name)).find((f) => f.startsWith(b.id) && f.endsWith(".tar.zst"))!;
  const file = path.join(s.p.serviceFolder(s.name), archive);
  expect(fs.statSync(file).size).toBeGreaterThan(40 * MIB);
  expect(cachedBytes(file)).toBeLessThan(MIB);

  expect(warm(file)).toBe(fs.statSync(file).size);
  expect(cachedBytes(file)).toBeGreaterThan(40 * MIB);
  const v = tb(s, ["verify", s.name]);
  expect({ code: v.code, stderr: v.stderr }).toMatchObject({ code: 0 });
  expect(cachedBytes(file)).toBeLessThan(MIB);

  warm(file);
  const r = tb(s, ["restore", s.name, "--yes", "--no-safety-backup"]);
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  expect(cachedBytes(file)).toBeLessThan(MIB);
  expect(state(s.vol)).toEqual(original);
});
