/** `cron install|uninstall|status` against the real crontab, and one run by the real cron daemon. */
import { afterAll, afterEach, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { BIN, cleanupCliTemp, run, tempDir, waitFor } from "../helpers/cli.ts";
import { crontabText, ensureCronDaemon, saveCrontab, setCrontab, stopCronDaemon } from "../helpers/cron.ts";
import { cleanupDocker, createVolume, fillVolume, isRunning, runContainer, uniqueName } from "../helpers/docker.ts";
import { startStandIn } from "../helpers/notify-server.ts";
import { makeProject, readJson, textIfAny } from "../helpers/project.ts";
import { startInPty } from "../helpers/pty.ts";
import { waitPrompt } from "../helpers/tui.ts";
import { startWebdavRemote } from "../helpers/webdav-remote.ts";

setDefaultTimeout(200_000);
let restoreCrontab: () => void;
beforeAll(() => (restoreCrontab = saveCrontab()));
afterEach(cleanupDocker);
afterAll(() => {
  // A test that stopped the daemon has started it again; this covers one that failed meanwhile.
  ensureCronDaemon();
  restoreCrontab();
  cleanupCliTemp();
});

const OTHERS = '# the user\'s own jobs\nMAILTO=""\n\n17 4 * * 0 /usr/local/bin/rotate-photos --keep 30 # weekly\n';

test("install keeps every other line, re-install replaces, uninstall restores byte for byte", () => {
  setCrontab(OTHERS);
  const p = makeProject({ services: { app: [{ name: "unused-volume" }] } });
  const a = run(["cron", "install", ...p.args], { stateHome: p.stateHome });
  expect(a.code).toBe(0);
  expect(a.stderr).toContain("every day at 03:00");
  const once = crontabText();
  expect(once.startsWith(OTHERS)).toBe(true);
  expect(once.split("\n").filter((l) => l.includes("backup' '--cron'"))).toHaveLength(1);
  expect(run(["cron", "install", "--schedule", "30 2 * * 1", ...p.args], { stateHome: p.stateHome }).code).toBe(0);
  const twice = crontabText();
  expect(twice.split("\n").filter((l) => l.includes("backup' '--cron'"))).toEqual([
    expect.stringMatching(/^30 2 \* \* 1 /),
  ]);
  const status = run(["cron", "status", "--json"], { stateHome: p.stateHome });
  const s = JSON.parse(status.stdout);
  expect(s).toMatchObject({ installed: true, schedule: "30 2 * * 1", executable: BIN, executable_exists: true });
  expect(run(["cron", "uninstall"], { stateHome: p.stateHome }).code).toBe(0);
  expect(crontabText()).toBe(OTHERS);
});

test("a bad schedule is a usage error with the reason, crontab untouched", () => {
  setCrontab(OTHERS);
  const p = makeProject({ services: { app: [{ name: "unused-volume" }] } });
  const r = run(["cron", "install", "--schedule", "99 3 * * *", ...p.args], { stateHome: p.stateHome });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/invalid schedule "99 3 \* \* \*"/);
  expect(crontabText()).toBe(OTHERS);
});

test("status warns loudly when the binary the line points to is gone", () => {
  const dir = tempDir("tbtest-moved-");
  const moved = path.join(dir, "tools-backup");
  fs.copyFileSync(BIN, moved);
  fs.chmodSync(moved, 0o755);
  const p = makeProject({ services: { app: [{ name: "unused-volume" }] } });
  const env = { XDG_STATE_HOME: p.stateHome, PATH: process.env.PATH! };
  expect(Bun.spawnSync([moved, "cron", "install", ...p.args], { env }).exitCode).toBe(0);
  fs.rmSync(moved);
  const r = run(["cron", "status"], { stateHome: p.stateHome });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("no longer exists");
  run(["cron", "uninstall"], { stateHome: p.stateHome });
});

test("no cron daemon running: install warns (exit 0), cron status warns, status exits 1 naming it, the menu says it", async () => {
  setCrontab(OTHERS);
  const p = makeProject({ services: { app: [{ name: "unused-volume" }] }, config: { services: {} } });
  const tb = (args: string[]) => run(args, { stateHome: p.stateHome });
  const NO_DAEMON = "the schedule is installed, but no cron daemon is running";
  ensureCronDaemon();
  const running = [tb(["cron", "install", ...p.args]), tb(["cron", "status"]), tb(["status", "--json", ...p.args])];
  expect(running.map((r) => r.code)).toEqual([0, 0, 0]);
  for (const r of running) expect(r.stderr).not.toContain("cron daemon");
  expect(JSON.parse(running[2]!.stdout).schedule).toMatchObject({ cron_daemon_running: true });
  await stopCronDaemon();
  try {
    const install = tb(["cron", "install", ...p.args]);
    expect(install.code).toBe(0);
    expect(install.stderr).toContain("replaced the scheduled backup");
    expect(install.stderr).toContain(NO_DAEMON);
    const cronStatus = tb(["cron", "status"]);
    expect(cronStatus.code).toBe(0);
    expect(cronStatus.stderr).toContain(NO_DAEMON);
    expect(JSON.parse(tb(["cron", "status", "--json"]).stdout)).toMatchObject({
      installed: true,
      daemon_running: false,
    });
    const status = tb(["status", ...p.args]);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(new RegExp(`error: ${NO_DAEMON}`));
    const json = tb(["status", "--json", ...p.args]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).schedule).toMatchObject({ cron_daemon_running: false });
    const t = startInPty(p.args, { stateHome: p.stateHome });
    try {
      await waitPrompt(t, "What would you like to do?");
      expect(t.screen()).toMatch(/schedule: +every day at 03:00, next .*; installed, but NO cron daemon is running/);
    } finally {
      t.close();
    }
  } finally {
    ensureCronDaemon();
    tb(["cron", "uninstall"]);
  }
});

test("the installed line runs under the real cron daemon and makes a good backup", async () => {
  // Spaces everywhere a user might have them: the binary's folder and a Google Drive backup_dir.
  const home = tempDir("tbtest-cron home-");
  const bin = path.join(home, "My Tools", "tools-backup");
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  fs.copyFileSync(BIN, bin);
  fs.chmodSync(bin, 0o755);
  const volume = createVolume();
  const container = uniqueName("ctr");
  fillVolume(volume, "echo nightly > note.txt && dd if=/dev/urandom of=blob bs=64k count=32 2>/dev/null");
  runContainer(container, [volume]);
  const backupDir = path.join(home, "Google Drive", "Backups", "tools");
  fs.mkdirSync(backupDir, { recursive: true });
  const p = makeProject({
    services: { app: [{ name: volume, container }] },
    config: { backup_dir: backupDir, services: { app: true } },
  });
  const env = { XDG_STATE_HOME: p.stateHome, PATH: process.env.PATH!, HOME: home };
  // The user's own change, read by the daemon (on a fresh machine it starts here and reads it),
  // then ours within the same second: the tool must still make cron see its line.
  setCrontab(OTHERS);
  ensureCronDaemon();
  const install = Bun.spawnSync([bin, "cron", "install", "--schedule", "* * * * *", ...p.args], {
    env,
    stderr: "pipe",
  });
  expect(install.exitCode).toBe(0);
  try {
    const folder = path.join(backupDir, "app");
    const made = await waitFor(
      () => fs.existsSync(folder) && fs.readdirSync(folder).some((n) => n.endsWith(".json")),
      150_000,
      1000,
    );
    if (!made)
      console.error(
        `no backup from cron; crontab:\n${crontabText()}\ncron.log:\n${textIfAny(path.join(p.stateHome, "tools-backup", "cron.log")) ?? "(none)"}`,
      );
    expect(made).toBe(true);
    await waitFor(() => fs.existsSync(path.join(p.stateHome, "tools-backup", "status.json")), 30_000, 500);
  } finally {
    expect(Bun.spawnSync([bin, "cron", "uninstall"], { env }).exitCode).toBe(0);
  }
  const listed = JSON.parse(run(["list", "app", "--json", ...p.args], { stateHome: p.stateHome }).stdout);
  expect(listed[0].kind).toBe("scheduled");
  expect(run(["verify", "app", ...p.args], { stateHome: p.stateHome }).code).toBe(0);
  expect(isRunning(container)).toBe(true);
  const status = readJson(path.join(p.stateHome, "tools-backup", "status.json"));
  expect(status.last_run.cron).toBe(true);
  expect(status.services.app.ok).toBe(true);
  const log = fs.readFileSync(path.join(p.stateHome, "tools-backup", "cron.log"), "utf8");
  expect(log).toContain("scheduled backup of app");
  expect(log).not.toContain(process.env.PATH!);
});

test("the real cron daemon runs a backup whose only offsite copy is an rclone webdav remote", async () => {
  const dav = await startWebdavRemote();
  const home = tempDir("tbtest-cron-rclone-");
  // rclone where only the line's PATH can find it: a wrapper in a folder of its own, noting each call.
  const rcloneDir = path.join(home, "rclone-bin");
  const calls = path.join(home, "rclone-calls.log");
  fs.mkdirSync(rcloneDir);
  const wrapper = `#!/bin/sh\necho "$1" >> '${calls}'\nexec /usr/bin/rclone "$@"\n`;
  fs.writeFileSync(path.join(rcloneDir, "rclone"), wrapper, { mode: 0o755 });
  const volume = createVolume();
  const container = uniqueName("ctr");
  fillVolume(volume, "echo offsite > note.txt && dd if=/dev/urandom of=blob bs=64k count=32 2>/dev/null");
  runContainer(container, [volume]);
  const backupDir = path.join(home, "backups");
  fs.mkdirSync(backupDir);
  const p = makeProject({
    services: { app: [{ name: volume, container }] },
    config: {
      backup_dir: backupDir,
      services: { app: true },
      offsite: [{ name: "nas", url: "rclone:dav:nightly", rclone_config: dav.conf("dav") }],
    },
  });
  const env = { XDG_STATE_HOME: p.stateHome, PATH: `${rcloneDir}:${process.env.PATH!}`, HOME: home };
  const cronLog = path.join(p.stateHome, "tools-backup", "cron.log");
  setCrontab(OTHERS);
  ensureCronDaemon();
  const install = Bun.spawnSync([BIN, "cron", "install", "--schedule", "* * * * *", ...p.args], {
    env,
    stderr: "pipe",
  });
  expect(install.exitCode).toBe(0);
  const remote = path.join(dav.dir, "nightly", "app");
  try {
    const arrived = await waitFor(
      () => fs.existsSync(remote) && fs.readdirSync(remote).some((n) => n.endsWith(".json")),
      150_000,
      1000,
    );
    if (!arrived)
      console.error(
        `nothing uploaded by cron; crontab:\n${crontabText()}\ncron.log:\n${textIfAny(cronLog) ?? "(none)"}`,
      );
    expect(arrived).toBe(true);
    await waitFor(() => fs.existsSync(path.join(p.stateHome, "tools-backup", "status.json")), 30_000, 500);
  } finally {
    expect(Bun.spawnSync([BIN, "cron", "uninstall"], { env }).exitCode).toBe(0);
    await dav.stop();
  }
  const manifest = fs.readdirSync(remote).find((n) => n.endsWith(".json"))!;
  const id = manifest.replace(/\.json$/, "");
  const archive = fs.readdirSync(remote).find((n) => n.startsWith(id) && n !== manifest)!;
  expect(archive).toBeDefined();
  const local = path.join(backupDir, "app", archive);
  expect(fs.readFileSync(path.join(remote, archive)).equals(fs.readFileSync(local))).toBe(true);
  expect(
    fs.readFileSync(path.join(remote, manifest)).equals(fs.readFileSync(path.join(backupDir, "app", manifest))),
  ).toBe(true);
  expect(isRunning(container)).toBe(true);
  // The rclone on the cron line's PATH ran: checked, then serving the upload.
  const ran = fs.readFileSync(calls, "utf8").trim().split("\n");
  expect(ran).toContain("rcat");
  expect(ran.filter((c) => c !== "version" && c !== "rcat")).toEqual([]);
  const log = fs.readFileSync(cronLog, "utf8");
  expect(log).toContain("scheduled backup of app");
  expect(log).not.toMatch(/error|failed|warn/i);
  for (const secret of [dav.password, ...dav.obscured]) expect(log).not.toContain(secret);
  const status = readJson(path.join(p.stateHome, "tools-backup", "status.json"));
  expect(status.last_run.cron).toBe(true);
  expect(status.services.app.ok).toBe(true);
});

test("the real cron daemon runs a backup that notifies the webhook and pings Healthchecks", async () => {
  const s = startStandIn();
  const home = tempDir("tbtest-cron-notify-");
  const token = path.join(home, "hook.token");
  fs.writeFileSync(token, "cron-hook-token-77\n", { mode: 0o600 });
  const volume = createVolume();
  const container = uniqueName("ctr");
  fillVolume(volume, "echo notify > note.txt");
  runContainer(container, [volume]);
  fs.mkdirSync(path.join(home, "backups"));
  const p = makeProject({
    services: { app: [{ name: volume, container }] },
    config: {
      backup_dir: path.join(home, "backups"),
      services: { app: true },
      notify: [
        { url: `generic+http://${s.host}/cron-hook`, password_file: token, on: ["success", "failure"] },
        { url: `${s.base}/ping/cron-uuid`, kind: "healthchecks" },
      ],
    },
  });
  const env = { XDG_STATE_HOME: p.stateHome, PATH: process.env.PATH!, HOME: home };
  const cronLog = path.join(p.stateHome, "tools-backup", "cron.log");
  setCrontab(OTHERS);
  ensureCronDaemon();
  const install = Bun.spawnSync([BIN, "cron", "install", "--schedule", "* * * * *", ...p.args], {
    env,
    stderr: "pipe",
  });
  expect(install.exitCode).toBe(0);
  try {
    const told = await waitFor(() => s.to("/ping/cron-uuid/0").length > 0, 150_000, 500);
    if (!told)
      console.error(
        `no success ping from cron; received: ${s.received.map((r) => r.path).join(", ")}; crontab:\n${crontabText()}\ncron.log:\n${textIfAny(cronLog) ?? "(none)"}`,
      );
    expect(told).toBe(true);
    await waitFor(() => s.to("/cron-hook").length > 0, 30_000, 200);
  } finally {
    expect(Bun.spawnSync([BIN, "cron", "uninstall"], { env }).exitCode).toBe(0);
    s.stop();
  }
  const [hook] = s.to("/cron-hook");
  expect(hook!.headers.authorization).toBe("Bearer cron-hook-token-77");
  const event = JSON.parse(hook!.body);
  expect(event).toMatchObject({ kind: "success", exitCode: 0 });
  expect(event.services).toMatchObject([{ service: "app", ok: true }]);
  expect(s.to("/ping/cron-uuid")[0]!.path).toBe("/ping/cron-uuid/start");
  expect(isRunning(container)).toBe(true);
  const log = fs.readFileSync(cronLog, "utf8");
  expect(log).toContain("scheduled backup of app");
  expect(log).not.toContain("could not notify");
  expect(log).not.toContain("cron-hook-token-77");
  expect(readJson(path.join(p.stateHome, "tools-backup", "status.json")).last_run.cron).toBe(true);
});
