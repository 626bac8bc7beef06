/**
 * The interactive screens, driven through the COMPILED binary in a real pseudo-terminal (tmux):
 * first-run setup, settings (comments kept, only the edited line changes), a backup from the
 * menu, Ctrl-C at a prompt, and no prompt at all without a terminal.
 *
 * Exit codes: Esc or Ctrl-C at a prompt of the menu, settings or setup leaves with 0 and
 * nothing written (a prompt reads keys raw, so Ctrl-C there is a key, not a SIGINT).
 */
import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { BIN, binaryEnv, cleanupCliTemp, run, tempDir } from "../helpers/cli.ts";
import { crontabText, saveCrontab } from "../helpers/cron.ts";
import { cleanupDocker } from "../helpers/docker.ts";
import { filesIn, makeProject, mode } from "../helpers/project.ts";
import { type Pty, startInPty } from "../helpers/pty.ts";
import { FAST, listed, service, svcName } from "../helpers/restore-kit.ts";
import { answer, count, press, waitMore, waitPrompt } from "../helpers/tui.ts";

setDefaultTimeout(150_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

const MENU = "What would you like to do?";

async function closed(t: Pty, fn: (t: Pty) => Promise<void>): Promise<void> {
  try {
    await fn(t);
  } finally {
    t.close();
  }
}

describe("without a terminal there is no prompt", () => {
  test("no arguments, stdin from /dev/null: usage on stdout, exit 0, at once", () => {
    const t0 = Date.now();
    const r = spawnSync(BIN, [], {
      env: binaryEnv(),
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
      timeout: 10_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("USAGE");
    expect(r.stdout).toContain("settings");
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  test("settings: exit 2 saying it needs a terminal", () => {
    const p = makeProject({ services: { a: [{ name: "v" }] } });
    const r = run(["settings", ...p.args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs a terminal/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});

describe("first-run setup", () => {
  test("writes a valid, commented backup.yaml next to services/, creates backup_dir in the cloud folder, installs the schedule", async () => {
    const name = svcName("setup");
    const p = makeProject({ services: { [name]: [{ name: `${name}-vol` }], "zz-nodata": null } });
    fs.rmSync(p.config);
    const home = tempDir("tbtest-home-");
    fs.mkdirSync(path.join(home, "Google Drive"));
    const restoreCrontab = saveCrontab();
    const t = startInPty([], { cwd: p.root, stateHome: p.stateHome, env: { HOME: home } });
    await closed(t, async (t) => {
      await waitPrompt(t, "Where should backup.yaml live?");
      expect(t.screen()).toContain(path.join(p.root, "backup.yaml"));
      await press(t, "Enter");
      await waitPrompt(t, "Where should the backups go?");
      expect(t.screen()).toContain("~/Google Drive/Backups/tools");
      await press(t, "Enter");
      await waitPrompt(t, "does not exist. Create it");
      await press(t, "Enter");
      await waitPrompt(t, "after how many days?");
      await press(t, "BSpace");
      await answer(t, "10");
      await waitPrompt(t, "Which services should the scheduled backup include?");
      expect(t.screen()).toMatch(/zz-nodata \(no data declared/);
      await press(t, "Space", "Enter");
      await waitPrompt(t, `Write ${path.join(p.root, "backup.yaml")}?`);
      await press(t, "Enter");
      await waitPrompt(t, "Encrypt the backups with age?");
      await press(t, "Enter"); // no, the default
      await waitPrompt(t, "Install the nightly backup in your crontab");
      await press(t, "Enter");
      await waitPrompt(t, MENU);
      expect(t.screen()).toMatch(/installed the scheduled backup: every day at 03:00/);
      expect(t.screen()).toMatch(new RegExp(`⚠ ${name}\\s+no backup from this machine yet`));
      await press(t, "C-c");
      expect(await t.exitCode(20_000)).toBe(0);
    }).finally(() => {
      const tab = crontabText();
      restoreCrontab();
      expect(tab).toContain(`'--config' '${p.root}/backup.yaml'`);
    });

    const file = path.join(p.root, "backup.yaml");
    expect(mode(file)).toBe(0o600);
    expect(fs.readFileSync(file, "utf8")).toContain("# Where archives go");
    expect(parse(fs.readFileSync(file, "utf8"))).toEqual({
      backup_dir: "~/Google Drive/Backups/tools",
      retention_days: 10,
      keep_last: 3,
      compression: "zstd",
      services: { [name]: true },
    });
    expect(mode(path.join(home, "Google Drive", "Backups", "tools"))).toBe(0o700);
    const r = run(["list", "--config", file], { env: { HOME: home } });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
  });

  test("Ctrl-C in the middle writes nothing and exits 0", async () => {
    const p = makeProject({ services: { a: [{ name: "v" }] } });
    fs.rmSync(p.config);
    const home = tempDir("tbtest-home-");
    const t = startInPty([], { cwd: p.root, stateHome: p.stateHome, env: { HOME: home } });
    await closed(t, async (t) => {
      await waitPrompt(t, "Where should backup.yaml live?");
      await press(t, "Enter");
      await waitPrompt(t, "Where should the backups go?");
      expect(t.screen()).toContain("~/Backups/tools"); // no cloud folder in this home
      await press(t, "C-c");
      expect(await t.exitCode(20_000)).toBe(0);
      expect(t.screen()).toContain("setup cancelled: backup.yaml was not written");
    });
    expect(fs.existsSync(path.join(p.root, "backup.yaml"))).toBe(false);
    expect(filesIn(home)).toEqual([]);
  });
});

const COMMENTED = (dir: string, a: string, b: string) => `# my backups, hand-written
backup_dir: ${dir}    # synced elsewhere
retention_days: 7

services:
  ${a}: true     # the important one
  ${b}: false    # maybe later
`;

describe("settings", () => {
  function commentedProject() {
    const a = svcName("sa");
    const b = svcName("sb");
    const p = makeProject({ services: { [a]: [{ name: `${a}-v` }], [b]: [{ name: `${b}-v` }], "zz-nodata": null } });
    const [first, second] = [a, b].sort() as [string, string];
    p.writeConfig(COMMENTED(p.backupDir, first, second));
    return { p, first, second };
  }

  test("toggling one service changes only its line; the comments stay; written 0600 with no temporary file left", async () => {
    const { p, first, second } = commentedProject();
    const before = fs.readFileSync(p.config, "utf8");
    const t = startInPty(["settings", ...p.args], { stateHome: p.stateHome });
    await closed(t, async (t) => {
      await waitPrompt(t, "Settings");
      expect(t.screen()).toMatch(/\[-\] zz-nodata\s+\(no data to back up\)/);
      await press(t, "Down", "Down", "Down", "Down", "Enter");
      await waitPrompt(t, "Services in the scheduled backup");
      expect(t.screen()).toMatch(/zz-nodata \(no data: service.yaml declares no data.volumes\)/);
      await press(t, "Down", "Space", "Enter");
      await waitPrompt(t, "Settings (1 unsaved)");
      await press(t, "Down", "Down", "Down", "Down", "Down", "Enter"); // past Offsite, Encryption, Backup, Schedule
      await waitPrompt(t, "Write these changes?");
      expect(t.screen()).toContain(`services.${second}: off -> on`);
      await press(t, "Enter");
      await t.waitForScreen(/saved /, 20_000);
      await waitPrompt(t, "Settings");
      await press(t, "Escape");
      expect(await t.exitCode(20_000)).toBe(0);
    });
    const after = fs.readFileSync(p.config, "utf8");
    const diff = after
      .split("\n")
      .map((line, i) => [before.split("\n")[i], line])
      .filter(([x, y]) => x !== y);
    expect(diff).toEqual([[`  ${second}: false    # maybe later`, `  ${second}: true    # maybe later`]]);
    expect(mode(p.config)).toBe(0o600);
    expect(filesIn(p.root).filter((f) => f.startsWith("."))).toEqual([]);
    expect(run(["services", "--json", ...p.args]).code).toBe(0);
    expect(first).not.toBe(second);
  });

  test("Ctrl-C with an unsaved change: file bytes identical, exit 0", async () => {
    const { p } = commentedProject();
    const before = fs.readFileSync(p.config);
    const t = startInPty(["settings", ...p.args], { stateHome: p.stateHome });
    await closed(t, async (t) => {
      await waitPrompt(t, "Settings");
      await press(t, "Down", "Enter");
      await waitPrompt(t, "How should old backups be deleted?");
      await press(t, "Enter"); // by age, as written
      await waitPrompt(t, "after how many days?");
      await press(t, "BSpace");
      await answer(t, "30");
      await waitPrompt(t, "Settings (1 unsaved)");
      await press(t, "C-c");
      expect(await t.exitCode(20_000)).toBe(0);
      expect(t.screen()).toMatch(/1 unsaved change discarded/);
    });
    expect(fs.readFileSync(p.config).equals(before)).toBe(true);
  });

  test("retention by calendar: the keep_* numbers, a year's preview, retention: written in place of retention_days", async () => {
    const { p, first, second } = commentedProject();
    const t = startInPty(["settings", ...p.args], { stateHome: p.stateHome });
    await closed(t, async (t) => {
      await waitPrompt(t, "Settings");
      expect(t.screen()).toContain("Retention:         7 days, always the newest 3 per service");
      await press(t, "Down", "Enter");
      await waitPrompt(t, "How should old backups be deleted?");
      await press(t, "Down", "Enter");
      for (const [rule, value] of [
        ["keep_last", ""],
        ["keep_daily", ""],
        ["keep_weekly", "0"],
        ["keep_monthly", ""],
        ["keep_yearly", "2"],
      ]) {
        await waitPrompt(t, `(${rule})`);
        if (value) await press(t, "C-u");
        await answer(t, value!);
      }
      // What a year keeps depends on today's date (where the months and years fall): its form only.
      expect(await t.waitForScreen(/a year of nightly backups: \d+ kept, the oldest \d+ months old/, 20_000)).toBe(
        true,
      );
      await waitPrompt(t, "Settings (1 unsaved)");
      expect(t.screen()).toContain(
        "Retention:       by calendar: keep_last 3, keep_daily 7, keep_monthly 12, keep_yearly 2",
      );
      await press(t, "Down", "Down", "Down", "Down", "Down", "Down", "Down", "Down", "Enter"); // Save
      await waitPrompt(t, "Write these changes?");
      expect(t.screen()).toContain("retention: by age -> keep_last 3, keep_daily 7, keep_monthly 12, keep_yearly 2");
      await press(t, "Enter");
      await t.waitForScreen(/saved /, 20_000);
      await waitPrompt(t, "Settings");
      await press(t, "Escape");
      expect(await t.exitCode(20_000)).toBe(0);
    });
    const retention = "retention:\n  keep_last: 3\n  keep_daily: 7\n  keep_monthly: 12\n  keep_yearly: 2\n";
    expect(fs.readFileSync(p.config, "utf8")).toBe(
      COMMENTED(p.backupDir, first, second).replace("retention_days: 7\n", "") + retention,
    );
    const dry = run(["prune", "--dry-run", "--json", ...p.args], { stateHome: p.stateHome });
    expect(dry.code).toBe(0);
  });

  test("backup_dir is checked: a path under a file is refused with the reason", async () => {
    const { p } = commentedProject();
    const before = fs.readFileSync(p.config);
    const t = startInPty(["settings", ...p.args], { stateHome: p.stateHome });
    await closed(t, async (t) => {
      await waitPrompt(t, "Settings");
      await press(t, "Enter");
      await waitPrompt(t, "Backup folder (backup_dir)");
      await press(t, "C-u");
      await answer(t, `${p.config}/sub`);
      await t.waitForScreen(/is not a folder/, 20_000);
      await press(t, "Escape");
      await waitPrompt(t, "Settings");
      await press(t, "Escape");
      expect(await t.exitCode(20_000)).toBe(0);
    });
    expect(fs.readFileSync(p.config).equals(before)).toBe(true);
  });
});

describe("menu", () => {
  test("back up all enabled services: progress, archive path, the status header updated, listed; Ctrl-C at the menu exits 0", async () => {
    const s = service({ what: "menu" });
    const t = startInPty(s.p.args, { stateHome: s.p.stateHome, env: FAST });
    await closed(t, async (t) => {
      await waitPrompt(t, MENU);
      expect(t.screen()).toContain(`backup_dir: ${s.p.backupDir}`);
      expect(t.screen()).toMatch(new RegExp(`⚠ ${s.name}\\s+no backup`));
      const menus = count(t, MENU);
      await press(t, "Enter");
      await waitPrompt(t, "Back up which service?");
      expect(t.screen()).toContain(`All enabled services (${s.name})`);
      await press(t, "Enter");
      await waitMore(t, MENU, menus, 90_000);
      await waitPrompt(t, MENU);
      const screen = t.screen();
      expect(screen).toContain(`${s.name}: stopping ${s.container}`);
      expect(screen).toMatch(new RegExp(`${s.name}: ${s.p.backupDir}/${s.name}/\\S+\\.tar\\.zst \\(`));
      expect(screen).toMatch(new RegExp(`✔ ${s.name}\\s+newest \\d+s ago`));
      const id = listed(s)[0]!.id;
      const again = count(t, MENU);
      await press(t, "Down", "Down", "Down", "Enter");
      await waitMore(t, MENU, again);
      expect(t.screen()).toMatch(
        new RegExp(`${id}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+\\d+s ago\\s+\\S+\\s+[\\d.]+ \\S+\\s+manual`),
      );
      await waitPrompt(t, MENU);
      await press(t, "C-c");
      expect(await t.exitCode(20_000)).toBe(0);
    });
    const all = listed(s);
    expect(all.map((b) => b.kind)).toEqual(["manual"]);
    expect(fs.existsSync(all[0]!.file)).toBe(true);
  });
});
