/**
 * Settings > Encryption in a real pseudo-terminal: a key generated there (its file 0600, the public
 * key and the warning shown, backup.yaml written on a yes with the comments kept) seals the next
 * `backup`, which the reference age CLI opens; an existing public key is checked before it is
 * taken; turning encryption off asks first. No identity ever reaches the screen.
 */
import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { cleanupCliTemp, tempDir } from "../helpers/cli.ts";
import { cleanupDocker } from "../helpers/docker.ts";
import { makeProject, mode } from "../helpers/project.ts";
import { type Pty, startInPty } from "../helpers/pty.ts";
import { cleanupApps, FAST, listed, type Svc, service, svcName, tb } from "../helpers/restore-kit.ts";
import { answer, press, waitPrompt } from "../helpers/tui.ts";

setDefaultTimeout(150_000);
afterEach(() => {
  cleanupApps();
  cleanupDocker();
});
afterAll(cleanupCliTemp);

/** The service's backup.yaml rewritten with the user's comments, mode 0600. */
function commented(s: Svc): string {
  const text = `# my backups, hand-written
backup_dir: ${s.p.backupDir}    # synced elsewhere
retention_days: 7

services:
  ${s.name}: true     # the important one
`;
  s.p.writeConfig(text);
  fs.chmodSync(s.p.config, 0o600);
  return text;
}

async function closed(t: Pty, fn: (t: Pty) => Promise<void>): Promise<void> {
  try {
    await fn(t);
  } finally {
    t.close();
  }
}

const settings = (s: Svc, configHome: string) =>
  startInPty(["settings", ...s.p.args], { stateHome: s.p.stateHome, env: { ...FAST, XDG_CONFIG_HOME: configHome } });

/** From the settings menu to the encryption screen (the entry after Offsite copies). */
async function openEncryption(t: Pty, state: string): Promise<void> {
  await waitPrompt(t, "Settings");
  await press(t, "Down", "Down", "Down", "Down", "Down", "Down", "Enter");
  await waitPrompt(t, `Encryption: ${state}`);
}

async function quit(t: Pty): Promise<void> {
  await waitPrompt(t, "Settings");
  await press(t, "Escape");
  expect(await t.exitCode(20_000)).toBe(0);
}

const newKey = () => {
  const r = spawnSync("age-keygen", { encoding: "utf8" });
  return { secret: r.stdout.match(/^AGE-SECRET-KEY-1\S+$/m)![0], recipient: r.stderr.match(/age1\S+/)![0] };
};

describe("settings > encryption", () => {
  test("generate a key: file 0600, the warning, backup.yaml on a yes; `backup` then writes what age -d opens", async () => {
    const s = service({ what: "encgen" });
    const before = commented(s);
    const configHome = tempDir("tbtest-xdg-");
    const keyFile = path.join(configHome, "tools", "backup.key");
    const t = settings(s, configHome);
    let secret = "";
    await closed(t, async (t) => {
      await waitPrompt(t, "Settings");
      expect(t.screen()).toMatch(/Encryption:\s+off/);
      await openEncryption(t, "off");
      await press(t, "Enter"); // Generate a new key
      await waitPrompt(t, "Write the new key (age identity) to");
      expect(t.screen()).toContain(keyFile);
      await press(t, "C-u", "Enter");
      expect(await t.waitForScreen(/enter the file's path/, 20_000)).toBe(true);
      await answer(t, keyFile);
      await waitPrompt(t, "Write this to backup.yaml?");
      expect(mode(keyFile)).toBe(0o600);
      secret = fs.readFileSync(keyFile, "utf8").match(/^AGE-SECRET-KEY-1\S+$/m)![0];
      const recipient = spawnSync("age-keygen", ["-y", keyFile], { encoding: "utf8" }).stdout.trim();
      const screen = t.screen();
      expect(screen).toContain(`Public key: ${recipient}`);
      expect(screen).toMatch(/without \S+backup\.key \(or a copy of it\) the backups .* cannot be restored/i);
      expect(screen).toContain("password manager or a USB stick, not in the backup folder");
      expect(fs.readFileSync(s.p.config, "utf8")).toBe(before); // shown first, not yet written
      await press(t, "Enter"); // yes
      expect(await t.waitForScreen(/saved /, 20_000)).toBe(true);
      await quit(t);
      expect(t.screen()).not.toContain(secret);
      expect(t.screen()).not.toContain("AGE-SECRET-KEY");
      const after = fs.readFileSync(s.p.config, "utf8");
      expect(after.startsWith(before)).toBe(true); // every line of the user's, comments included
      expect(parse(after).encryption).toEqual({ recipients: [recipient], identity: keyFile });
      expect(mode(s.p.config)).toBe(0o600);
    });
    const r = tb(s, ["backup", s.name]);
    expect(r.stderr).not.toContain(secret);
    expect(r.code).toBe(0);
    const archive = listed(s)[0]!.file;
    expect(archive).toEndWith(".tar.zst.age");
    const plain = path.join(tempDir("tbtest-plain-"), "a.tar.zst");
    const dec = spawnSync("age", ["-d", "-i", keyFile, "-o", plain, archive], { encoding: "utf8" });
    expect(dec.stderr).toBe("");
    expect(dec.status).toBe(0);
    const names = spawnSync("sh", ["-c", `zstd -dc "$1" | tar -t`, "sh", plain], { encoding: "utf8" });
    expect(names.status).toBe(0);
    expect(names.stdout).toContain("sub/deep.txt");
  });

  test("an existing public key is checked before it is taken; turning encryption off asks first", async () => {
    const name = svcName("enccfg");
    const s: Svc = { name, vol: `${name}-v`, p: makeProject({ services: { [name]: [{ name: `${name}-v` }] } }) };
    const before = commented(s);
    const { secret, recipient } = newKey();
    const t = settings(s, tempDir("tbtest-xdg-"));
    await closed(t, async (t) => {
      await openEncryption(t, "off");
      await press(t, "Down", "Enter"); // Use an existing public key
      await waitPrompt(t, "Public key (age1...)");
      await answer(t, "age1notakey");
      expect(await t.waitForScreen(/not a valid age public key: "age1notakey"/, 20_000)).toBe(true);
      await press(t, "C-u");
      await answer(t, recipient);
      await waitPrompt(t, "Write this to backup.yaml?");
      expect(t.screen()).toContain("this machine will hold no identity");
      await press(t, "Enter");
      expect(await t.waitForScreen(/saved /, 20_000)).toBe(true);
      expect(parse(fs.readFileSync(s.p.config, "utf8")).encryption).toEqual({ recipients: [recipient] });
      await waitPrompt(t, "Settings");
      expect(t.screen()).toMatch(/Encryption:\s+for 1 public key/);
      await press(t, "Enter");
      await waitPrompt(t, "Encryption: for 1 public key");
      await press(t, "Down", "Down", "Enter"); // Turn encryption off
      await waitPrompt(t, "Turn encryption off?");
      expect(t.screen()).toContain("Older encrypted backups stay encrypted: restoring one still needs its identity");
      await press(t, "Enter"); // the default: no
      expect(await t.waitForScreen(/encryption stays as it is/, 20_000)).toBe(true);
      expect(parse(fs.readFileSync(s.p.config, "utf8")).encryption).toEqual({ recipients: [recipient] });
      await waitPrompt(t, "Settings");
      await press(t, "Enter");
      await waitPrompt(t, "Encryption: for 1 public key");
      await press(t, "Down", "Down", "Enter");
      await waitPrompt(t, "Turn encryption off?");
      await press(t, "y");
      expect(await t.waitForScreen(/saved [^\n]*\n[\s\S]*saved /, 20_000)).toBe(true);
      await quit(t);
      expect(t.screen()).not.toContain(secret);
    });
    expect(fs.readFileSync(s.p.config, "utf8")).toBe(`${before}\n`);
  });
});

describe("first-run setup", () => {
  test("offers encryption after writing backup.yaml: a new key, the warning, and the encryption section", async () => {
    const name = svcName("encsetup");
    const p = makeProject({ services: { [name]: [{ name: `${name}-vol` }] } });
    fs.rmSync(p.config);
    const home = tempDir("tbtest-home-");
    const configHome = tempDir("tbtest-xdg-");
    const keyFile = path.join(configHome, "tools", "backup.key");
    const env = { ...FAST, HOME: home, XDG_CONFIG_HOME: configHome };
    const t = startInPty([], { cwd: p.root, stateHome: p.stateHome, env });
    await closed(t, async (t) => {
      await waitPrompt(t, "Where should backup.yaml live?");
      await press(t, "Enter");
      await waitPrompt(t, "Where should the backups go?");
      await press(t, "C-u");
      await answer(t, p.backupDir);
      await waitPrompt(t, "after how many days?");
      await press(t, "Enter");
      await waitPrompt(t, "Which services should the scheduled backup include?");
      await press(t, "Space", "Enter");
      await waitPrompt(t, `Write ${path.join(p.root, "backup.yaml")}?`);
      await press(t, "Enter");
      await waitPrompt(t, "Encrypt the backups with age?");
      await press(t, "Left", "Enter"); // yes
      await waitPrompt(t, "Encryption: off");
      await press(t, "Enter"); // Generate a new key
      await waitPrompt(t, "Write the new key (age identity) to");
      await press(t, "Enter");
      await waitPrompt(t, "Write this to backup.yaml?");
      expect(t.screen()).toContain("password manager or a USB stick, not in the backup folder");
      await press(t, "Enter");
      await waitPrompt(t, "Install the nightly backup in your crontab");
      await press(t, "Right", "Enter"); // no
      expect(await t.waitForScreen(/What would you like to do\?/, 20_000)).toBe(true);
      await press(t, "C-c");
      expect(await t.exitCode(20_000)).toBe(0);
    });
    expect(mode(keyFile)).toBe(0o600);
    const recipient = spawnSync("age-keygen", ["-y", keyFile], { encoding: "utf8" }).stdout.trim();
    expect(parse(fs.readFileSync(p.config, "utf8")).encryption).toEqual({ recipients: [recipient], identity: keyFile });
  });
});
