/** `status` exit codes for monitoring: fresh backups 0; stale or failed ones, a missing backup_dir, a moved binary 1. */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BIN, binaryEnv, cleanupCliTemp, run, tempDir } from "../helpers/cli.ts";
import { ensureCronDaemon } from "../helpers/cron.ts";
import { cleanupDocker, createVolume, fillVolume, removeVolume } from "../helpers/docker.ts";
import { fakeCrontab } from "../helpers/fake-crontab.ts";
import { makeProject, type Project, redateBackup } from "../helpers/project.ts";

setDefaultTimeout(120_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

const HOUR = 3_600_000;

/** The manifest of the only backup of app. */
function manifestOf(p: Project): string {
  const folder = p.serviceFolder("app");
  return path.join(folder, fs.readdirSync(folder).find((n) => n.endsWith(".json"))!);
}

function project() {
  const volume = createVolume();
  fillVolume(volume, "echo data > f");
  const p = makeProject({ services: { app: [{ name: volume }] } });
  return {
    p,
    volume,
    status: (...extra: string[]) => run(["status", "--json", ...extra, ...p.args], { stateHome: p.stateHome }),
  };
}

test("no backup yet: exit 1, the service is stale", () => {
  const { status } = project();
  const r = status();
  expect(r.code).toBe(1);
  expect(JSON.parse(r.stdout).services[0]).toMatchObject({ service: "app", newest: null, stale: true });
  expect(r.stderr).toContain("no backup newer than");
});

test("a fresh backup: exit 0; the same backup aged past --max-age: exit 1", () => {
  const { p, status } = project();
  expect(run(["backup", "--cron", ...p.args], { stateHome: p.stateHome }).code).toBe(0);
  const fresh = status();
  expect(fresh.code).toBe(0);
  const row = JSON.parse(fresh.stdout).services[0];
  expect(row).toMatchObject({ service: "app", stale: false, last_attempt: { ok: true, error: null } });
  expect(JSON.parse(fresh.stdout).max_age_hours).toBeGreaterThanOrEqual(26);

  // Older than the default (26 h, or 48 h with a nightly schedule installed).
  redateBackup(manifestOf(p), new Date(Date.now() - 50 * HOUR));
  expect(status().code).toBe(1);
  expect(status("--max-age", "72").code).toBe(0);
  expect(run(["status", "--max-age", "soon", ...p.args], { stateHome: p.stateHome }).code).toBe(2);
});

test("a failed last attempt is shown with its error", () => {
  const { p, volume, status } = project();
  removeVolume(volume);
  const r = run(["backup", "--cron", ...p.args], { stateHome: p.stateHome });
  expect(r.code).toBe(1);
  const s = status();
  expect(s.code).toBe(1);
  const row = JSON.parse(s.stdout).services[0];
  expect(row.last_attempt.ok).toBe(false);
  expect(row.last_attempt.error).toContain(volume);
});

test("backup_dir gone after a good backup (a drive not mounted): exit 1 naming it, not a stale backup", () => {
  const { p, status } = project();
  expect(run(["backup", "--cron", ...p.args], { stateHome: p.stateHome }).code).toBe(0);
  expect(status().code).toBe(0);
  const away = `${p.backupDir}.unmounted`;
  fs.renameSync(p.backupDir, away);
  const reason = `backup_dir ${p.backupDir} does not exist; create it, or check that the drive holding it is mounted`;
  const r = status();
  expect(r.code).toBe(1);
  expect(JSON.parse(r.stdout)).toMatchObject({
    backup_dir_problem: reason,
    services: [{ service: "app", newest: null }],
  });
  expect(r.stderr).toContain(reason);
  expect(r.stderr).not.toContain("no backup newer than");
  const text = run(["status", ...p.args], { stateHome: p.stateHome });
  expect(text.code).toBe(1);
  expect(text.stdout).toMatch(/app\s+unknown/);
  expect(text.stderr).toContain(reason);
  expect(fs.existsSync(p.backupDir)).toBe(false);
});

test("the binary the scheduled line runs was moved: exit 1 with cron status's message, though backups are fresh", () => {
  const { p } = project();
  const cron = fakeCrontab();
  // The installed line counts as working only while a cron daemon runs to start it.
  ensureCronDaemon();
  const moved = path.join(tempDir("tbtest-moved-"), "tools-backup");
  fs.copyFileSync(BIN, moved);
  fs.chmodSync(moved, 0o755);
  const env = binaryEnv({ stateHome: p.stateHome, env: cron.env });
  expect(spawnSync(moved, ["cron", "install", ...p.args], { env }).status).toBe(0);
  expect(run(["backup", "--cron", ...p.args], { stateHome: p.stateHome }).code).toBe(0);
  const before = run(["status", "--json", ...p.args], { stateHome: p.stateHome, env: cron.env });
  expect(before.code).toBe(0);
  expect(JSON.parse(before.stdout).schedule).toMatchObject({ executable: moved, executable_exists: true });

  fs.rmSync(moved);
  const table = cron.table();
  const r = run(["status", "--json", ...p.args], { stateHome: p.stateHome, env: cron.env });
  expect(r.code).toBe(1);
  const json = JSON.parse(r.stdout);
  expect(json.schedule).toMatchObject({ executable: moved, executable_exists: false });
  expect(json.services).toMatchObject([{ service: "app", stale: false }]);
  const problem = (out: string) =>
    out
      .split("\n")
      .find((l) => l.includes("no longer exists"))
      ?.replace(/^.*error: /, "");
  const cronStatus = run(["cron", "status"], { stateHome: p.stateHome, env: cron.env });
  expect(cronStatus.code).toBe(1);
  expect(problem(r.stderr)).toBeDefined();
  expect(problem(r.stderr)).toBe(problem(cronStatus.stderr));
  expect(problem(r.stderr)).toContain(moved);
  const text = run(["status", ...p.args], { stateHome: p.stateHome, env: cron.env });
  expect(text.code).toBe(1);
  expect(problem(text.stderr)).toBe(problem(cronStatus.stderr));
  expect(cron.table()).toBe(table);
});
