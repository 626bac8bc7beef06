import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { cronDaemonRunning } from "../../src/cron/daemon.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A stand-in /proc: one folder per pid with its `stat` line. */
function proc(stats: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tbtest-proc-"));
  dirs.push(dir);
  for (const [pid, stat] of Object.entries(stats)) {
    fs.mkdirSync(path.join(dir, pid));
    fs.writeFileSync(path.join(dir, pid, "stat"), stat);
  }
  fs.mkdirSync(path.join(dir, "self"));
  return dir;
}

test("cron or crond running counts; a zombie, a look-alike name or none does not", () => {
  const init = { "1": "1 (init) S 0 1 1" };
  expect(cronDaemonRunning("linux", proc({ ...init, "40": "40 (cron) S 1 40 40" }))).toBe(true);
  expect(cronDaemonRunning("linux", proc({ ...init, "41": "41 (crond) R 1 41 41" }))).toBe(true);
  expect(cronDaemonRunning("linux", proc({ ...init, "42": "42 (cron) Z 1 42 42" }))).toBe(false);
  expect(
    cronDaemonRunning("linux", proc({ ...init, "43": "43 (my (cron) S) S 1 43 43", "44": "44 (anacron) S 1" })),
  ).toBe(false);
  expect(cronDaemonRunning("linux", proc(init))).toBe(false);
});

test("cannot be told: /proc hiding pid 1 (hidepid), no /proc, another system; macOS runs cron by itself", () => {
  expect(cronDaemonRunning("linux", proc({ "40": "40 (bash) S 1" }))).toBeUndefined();
  expect(cronDaemonRunning("linux", "/nonexistent-proc")).toBeUndefined();
  expect(cronDaemonRunning("freebsd", proc({}))).toBeUndefined();
  expect(cronDaemonRunning("darwin", "/nonexistent-proc")).toBe(true);
});
