/**
 * Settings > Offsite copies in a real pseudo-terminal, against a real S3 server on loopback that
 * checks SigV4 signatures: a copy is added (tested first, saved on a yes, then used by `backup`),
 * a failing test saves nothing without a yes, a copy is removed after confirmation, and a credentials
 * file others can read is refused. Saving keeps the user's comments; no secret ever reaches the screen.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { cleanupCliTemp, tempDir } from "../helpers/cli.ts";
import { cleanupDocker } from "../helpers/docker.ts";
import { makeProject, mode } from "../helpers/project.ts";
import { type Pty, startInPty } from "../helpers/pty.ts";
import { FAST, listed, type Svc, service, svcName, tb } from "../helpers/restore-kit.ts";
import { type S3Server, startS3Server } from "../helpers/s3-server.ts";
import { answer, press, waitPrompt } from "../helpers/tui.ts";
import { startWebdavRemote, type WebdavRemote } from "../helpers/webdav-remote.ts";

setDefaultTimeout(150_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

const BUCKET = "tbtest-offsite";
const SECRET = "tbtestSecretKey0123456789abcdefXYZ";
const WRONG_SECRET = "tbtestWrongSecret9876543210zyxwvuQ";

const DAV_PASSWORD = "tbtestDavSecret0123456789abcXYZ";
const WRONG_DAV_PASSWORD = "tbtestDavWrong9876543210zyxZYX";

let server: S3Server;
let dav: WebdavRemote;
beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET], accessKeyId: "TBTESTKEYID", secretAccessKey: SECRET });
  dav = await startWebdavRemote({ password: DAV_PASSWORD });
});
afterAll(async () => {
  await server?.stop();
  await dav?.stop();
});

/** A KEY=value credentials file with this secret, in a folder of its own. */
function keysFile(secret: string, fileMode = 0o600): string {
  const file = path.join(tempDir("tbtest-keys-"), "s3.env");
  fs.writeFileSync(file, `AWS_ACCESS_KEY_ID=${server.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${secret}\n`);
  fs.chmodSync(file, fileMode);
  return file;
}

/** The service's backup.yaml rewritten with the user's comments (and `extra` lines), mode 0600. */
function commented(s: Svc, extra = ""): string {
  const text = `# my backups, hand-written
backup_dir: ${s.p.backupDir}    # synced elsewhere
retention_days: 7

services:
  ${s.name}: true     # the important one
${extra}`;
  s.p.writeConfig(text);
  fs.chmodSync(s.p.config, 0o600);
  return text;
}

/** Object keys stored in the bucket (s3rver keeps each object as KEY._S3rver_object). */
function stored(): string[] {
  const root = path.join(server.dir, BUCKET);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith("._S3rver_object")) out.push(path.relative(root, full).replace(/\._S3rver_object$/, ""));
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out.sort();
}

async function closed(t: Pty, fn: (t: Pty) => Promise<void>): Promise<void> {
  try {
    await fn(t);
  } finally {
    t.close();
  }
}

/** A project whose service is never backed up here: only its settings are edited. */
function settingsOnly(): Svc {
  const name = svcName("offcfg");
  return { name, vol: `${name}-v`, p: makeProject({ services: { [name]: [{ name: `${name}-v` }] } }) };
}

const settings = (s: Svc) => startInPty(["settings", ...s.p.args], { stateHome: s.p.stateHome, env: FAST });

/** From the settings menu to the offsite list (the entry after Services). */
async function openOffsite(t: Pty): Promise<void> {
  await waitPrompt(t, "Settings");
  await press(t, "Down", "Down", "Down", "Down", "Down", "Enter");
  await waitPrompt(t, "Offsite copies (");
}

/** Add: every question up to the keys' file, answered for the loopback server. */
async function answerAdd(t: Pty, keys: string): Promise<void> {
  await press(t, "Enter"); // "Add an offsite copy"
  await waitPrompt(t, "What kind of offsite copy?");
  await press(t, "Enter"); // S3 bucket
  await waitPrompt(t, "Name of the copy");
  await answer(t, "lab");
  await waitPrompt(t, "Bucket and prefix");
  await answer(t, `s3://${BUCKET}/tools`);
  await waitPrompt(t, "S3 endpoint (empty: AWS)");
  await answer(t, server.endpoint);
  await waitPrompt(t, "Region");
  await press(t, "Enter");
  await waitPrompt(t, "Path-style addressing");
  await press(t, "y");
  await waitPrompt(t, "Where are the keys");
  await press(t, "Enter"); // in a credentials file
  await waitPrompt(t, "Credentials file");
  await answer(t, keys);
}

/** The last two questions (this copy's own retention) left empty. */
async function sameRetention(t: Pty): Promise<void> {
  await waitPrompt(t, "Delete this copy's backups after how many days?");
  await press(t, "Enter");
  await waitPrompt(t, "Always keep how many newest backups per service in this copy?");
  await press(t, "Enter");
}

async function quit(t: Pty): Promise<void> {
  await waitPrompt(t, "Offsite copies (");
  await press(t, "Escape");
  await waitPrompt(t, "Settings");
  await press(t, "Escape");
  expect(await t.exitCode(20_000)).toBe(0);
}

describe("settings > offsite copies", () => {
  test("add: the test works, yes saves the entry with the comments kept, and `backup` then uploads", async () => {
    const s = service({ what: "offadd" });
    const before = commented(s);
    const keys = keysFile(SECRET);
    const t = settings(s);
    await closed(t, async (t) => {
      await waitPrompt(t, "Settings");
      expect(t.screen()).toMatch(/Offsite:\s+none/);
      await openOffsite(t);
      await answerAdd(t, keys);
      await sameRetention(t);
      await waitPrompt(t, "Save lab to backup.yaml?");
      expect(t.screen()).toMatch(/lab works: s3:\/\/tbtest-offsite\/tools\//);
      expect(fs.readFileSync(s.p.config, "utf8")).toBe(before); // tested first, not yet written
      await press(t, "Enter");
      await t.waitForScreen(/saved /, 20_000);
      await quit(t);
      expect(t.screen()).not.toContain(SECRET);
    });
    const after = fs.readFileSync(s.p.config, "utf8");
    expect(after.startsWith(before)).toBe(true); // every line of the user's, comments included
    expect(parse(after).offsite).toEqual([
      { name: "lab", url: `s3://${BUCKET}/tools`, endpoint: server.endpoint, path_style: true, credentials: keys },
    ]);
    expect(mode(s.p.config)).toBe(0o600);
    const r = tb(s, ["backup", s.name]);
    expect(r.code).toBe(0);
    const backup = listed(s)[0]!;
    const archive = `tools/${s.name}/${path.basename(backup.file)}`;
    expect(stored()).toEqual([`tools/${s.name}/${backup.id}.json`, archive]);
    const object = path.join(server.dir, BUCKET, `${archive}._S3rver_object`);
    expect(fs.readFileSync(object).equals(fs.readFileSync(backup.file))).toBe(true);
    expect(`${r.stdout}${r.stderr}`).not.toContain(SECRET);
  });

  test("a wrong secret: the refusal is shown, no to 'save anyway' leaves backup.yaml byte-identical", async () => {
    const s = settingsOnly();
    commented(s);
    const before = fs.readFileSync(s.p.config);
    const t = settings(s);
    await closed(t, async (t) => {
      await openOffsite(t);
      await answerAdd(t, keysFile(WRONG_SECRET));
      await sameRetention(t);
      await waitPrompt(t, "The test failed. Save lab anyway?");
      expect(t.screen()).toMatch(/lab does not work: writing a test object failed: .*check the secret access key/);
      expect(t.screen()).toContain("SignatureDoesNotMatch");
      await press(t, "Enter"); // the default: no
      await t.waitForScreen(/lab not saved: \S+ is unchanged/, 20_000);
      await quit(t);
      expect(t.screen()).not.toContain(WRONG_SECRET);
      expect(t.screen()).not.toContain(SECRET);
    });
    expect(fs.readFileSync(s.p.config).equals(before)).toBe(true);
    expect(mode(s.p.config)).toBe(0o600);
  });

  test("remove: confirmed, the copy is gone from backup.yaml, the comments and the bucket's objects stay", async () => {
    const s = settingsOnly();
    const keys = keysFile(SECRET);
    const copy = `offsite:   # copies elsewhere
  - name: lab        # the loopback server
    url: s3://${BUCKET}/gone
    endpoint: ${server.endpoint}
    path_style: true
    credentials: ${keys}
`;
    const before = commented(s, copy);
    const objects = stored();
    const t = settings(s);
    await closed(t, async (t) => {
      await waitPrompt(t, "Settings");
      expect(t.screen()).toMatch(new RegExp(`Offsite:\\s+lab → s3://${BUCKET}/gone`));
      await openOffsite(t);
      await press(t, "Up", "Enter"); // the copy, listed above "Add"
      await waitPrompt(t, `lab: s3://${BUCKET}/gone`);
      await press(t, "Down", "Down", "Enter");
      await waitPrompt(t, "Remove lab from backup.yaml?");
      expect(t.screen()).toMatch(/The backups already in the bucket stay there/);
      await press(t, "y");
      await t.waitForScreen(/saved /, 20_000);
      await quit(t);
    });
    const after = fs.readFileSync(s.p.config, "utf8");
    expect(after).toBe(before.replace(copy, "offsite:   # copies elsewhere\n"));
    expect(parse(after).offsite).toBeNull();
    expect(stored()).toEqual(objects);
    expect(mode(s.p.config)).toBe(0o600);
  });

  test("Test it on a saved copy says it works; an edit is tested, then only its own line changes", async () => {
    const s = settingsOnly();
    const keys = keysFile(SECRET);
    const copy = `offsite:
  - name: lab        # the loopback server
    url: s3://${BUCKET}/edit
    endpoint: ${server.endpoint}
    path_style: true
    credentials: ${keys}   # mine
`;
    const before = commented(s, copy);
    const t = settings(s);
    await closed(t, async (t) => {
      await openOffsite(t);
      await press(t, "Up", "Enter");
      await waitPrompt(t, `lab: s3://${BUCKET}/edit`);
      await press(t, "Enter"); // Test it
      await t.waitForScreen(/lab works: /, 20_000);
      await waitPrompt(t, "Offsite copies (1)");
      await press(t, "Enter"); // the list remembers the copy last chosen
      await waitPrompt(t, `lab: s3://${BUCKET}/edit`);
      await press(t, "Down", "Enter"); // Edit: every answer but the retention kept as it is
      for (const q of [
        "Bucket and prefix",
        "S3 endpoint",
        "Region",
        "Path-style",
        "Where are the keys",
        "Credentials",
      ]) {
        await waitPrompt(t, q);
        await press(t, "Enter");
      }
      await waitPrompt(t, "Delete this copy's backups after how many days?");
      await answer(t, "30");
      await waitPrompt(t, "Always keep how many newest backups per service in this copy?");
      await press(t, "Enter");
      await waitPrompt(t, "Save lab to backup.yaml?");
      expect(fs.readFileSync(s.p.config, "utf8")).toBe(before);
      await press(t, "Enter");
      await t.waitForScreen(/saved /, 20_000);
      await quit(t);
      expect(t.screen()).not.toContain(SECRET);
    });
    const after = fs.readFileSync(s.p.config, "utf8");
    expect(after).toBe(`${before}    retention_days: 30\n`);
    expect(mode(s.p.config)).toBe(0o600);
  });

  test("a credentials file others can read (0644) is refused with the chmod hint; nothing is written", async () => {
    const s = settingsOnly();
    commented(s);
    const before = fs.readFileSync(s.p.config);
    const keys = keysFile(SECRET, 0o644);
    const t = settings(s);
    await closed(t, async (t) => {
      await openOffsite(t);
      await answerAdd(t, keys);
      const refused = `${keys} is readable by others (mode 644): chmod 600 ${keys}`;
      const shown = await t.waitForScreen(new RegExp(refused.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), 20_000);
      if (!shown) expect(t.screen()).toContain(refused);
      await press(t, "Escape");
      await quit(t);
      expect(t.screen()).not.toContain(SECRET);
    });
    expect(fs.readFileSync(s.p.config).equals(before)).toBe(true);
  });

  test("add an rclone remote: the test works, yes writes url and rclone_config, `backup` then uploads", async () => {
    const s = service({ what: "offrcl" });
    const before = commented(s);
    const conf = dav.conf("dav");
    const t = settings(s);
    await closed(t, async (t) => {
      await openOffsite(t);
      await answerRclone(t, "dav:tools", conf);
      await sameRetention(t);
      await waitPrompt(t, "Save nas to backup.yaml?");
      expect(t.screen()).toMatch(/nas works: rclone:dav:tools\/ can be written, read and deleted/);
      expect(fs.readFileSync(s.p.config, "utf8")).toBe(before); // tested first, not yet written
      await press(t, "Enter");
      await t.waitForScreen(/saved /, 20_000);
      await quit(t);
      noDavSecret(t.screen());
    });
    const after = fs.readFileSync(s.p.config, "utf8");
    expect(after).toBe(`${before}\noffsite:\n  - name: nas\n    url: rclone:dav:tools\n    rclone_config: ${conf}\n`);
    expect(parse(after).offsite).toEqual([{ name: "nas", url: "rclone:dav:tools", rclone_config: conf }]);
    expect(mode(s.p.config)).toBe(0o600);
    const r = tb(s, ["backup", s.name]);
    expect(r.code).toBe(0);
    noDavSecret(`${r.stdout}${r.stderr}`);
    const backup = listed(s)[0]!;
    const folder = path.join(dav.dir, "tools", s.name);
    expect(fs.readdirSync(folder).sort()).toEqual([path.basename(backup.file), `${backup.id}.json`].sort());
    const uploaded = fs.readFileSync(path.join(folder, path.basename(backup.file)));
    expect(uploaded.equals(fs.readFileSync(backup.file))).toBe(true);
  });

  test("an rclone remote with a wrong password: 'refused the login', no leaves backup.yaml byte-identical", async () => {
    const s = settingsOnly();
    commented(s);
    const before = fs.readFileSync(s.p.config);
    const t = settings(s);
    await closed(t, async (t) => {
      await openOffsite(t);
      await answerRclone(t, "dav:wrong", dav.conf("dav", WRONG_DAV_PASSWORD));
      await sameRetention(t);
      await waitPrompt(t, "The test failed. Save nas anyway?");
      expect(t.screen()).toMatch(/nas does not work: writing a test object failed: .*the remote refused the login/);
      await press(t, "Enter"); // the default: no
      await t.waitForScreen(/nas not saved: \S+ is unchanged/, 20_000);
      await quit(t);
      noDavSecret(t.screen());
      expect(t.screen()).not.toContain(WRONG_DAV_PASSWORD);
    });
    expect(fs.readFileSync(s.p.config).equals(before)).toBe(true);
    expect(fs.existsSync(path.join(dav.dir, "wrong"))).toBe(false);
  });

  test("an rclone.conf others can read (0644) is refused with the chmod hint, as the loader refuses it", async () => {
    const s = settingsOnly();
    commented(s);
    const before = fs.readFileSync(s.p.config);
    const conf = dav.conf("dav", DAV_PASSWORD, 0o644);
    const t = settings(s);
    await closed(t, async (t) => {
      await openOffsite(t);
      await answerRclone(t, "dav:tools", conf);
      const refused = `${conf} is readable by others (mode 644): chmod 600 ${conf}`;
      const shown = await t.waitForScreen(new RegExp(refused.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), 20_000);
      if (!shown) expect(t.screen()).toContain(refused);
      await press(t, "Escape");
      await quit(t);
    });
    expect(fs.readFileSync(s.p.config).equals(before)).toBe(true);
  });

  test("editing an rclone copy asks the rclone questions; a bad REMOTE:PATH is refused by the loader's rule", async () => {
    const s = settingsOnly();
    const conf = dav.conf("dav");
    const copy = `offsite:
  - name: nas        # the loopback webdav
    url: rclone:dav:edit
    rclone_config: ${conf}   # mine
`;
    const before = commented(s, copy);
    const t = settings(s);
    await closed(t, async (t) => {
      await openOffsite(t);
      await press(t, "Up", "Enter");
      await waitPrompt(t, "nas: rclone:dav:edit");
      await press(t, "Down", "Enter"); // Edit
      await waitPrompt(t, "rclone remote and path");
      await press(t, ...Array(20).fill("BSpace"));
      await answer(t, "nocolon");
      await t.waitForScreen(/expected rclone:REMOTE:PATH .*found "rclone:nocolon"/, 20_000);
      expect(t.screen()).toMatch(/expected rclone:REMOTE:PATH .*found "rclone:nocolon"/);
      await press(t, ...Array(10).fill("BSpace"));
      await answer(t, "dav:edit");
      await waitPrompt(t, "rclone.conf to use");
      await press(t, "Enter");
      await waitPrompt(t, "Delete this copy's backups after how many days?");
      await answer(t, "30");
      await waitPrompt(t, "Always keep how many newest backups per service in this copy?");
      await press(t, "Enter");
      await waitPrompt(t, "Save nas to backup.yaml?");
      expect(t.screen()).toMatch(/nas works: rclone:dav:edit\//);
      expect(t.screen()).not.toContain("Bucket and prefix");
      await press(t, "Enter");
      await t.waitForScreen(/saved /, 20_000);
      await quit(t);
      noDavSecret(t.screen());
    });
    expect(fs.readFileSync(s.p.config, "utf8")).toBe(`${before}    retention_days: 30\n`);
  });
});

/** Add, kind "rclone remote": the name "nas", the remote and path, the rclone.conf. */
async function answerRclone(t: Pty, remote: string, conf: string): Promise<void> {
  await press(t, "Enter"); // "Add an offsite copy"
  await waitPrompt(t, "What kind of offsite copy?");
  await press(t, "Down", "Enter"); // rclone remote
  await waitPrompt(t, "Name of the copy");
  await answer(t, "nas");
  await waitPrompt(t, "rclone remote and path");
  await answer(t, remote);
  await waitPrompt(t, "rclone.conf to use");
  await answer(t, conf);
}

/** Neither the webdav password nor any obscured form of it written to an rclone.conf appears in `text`. */
function noDavSecret(text: string): void {
  for (const secret of [DAV_PASSWORD, ...dav.obscured]) expect(text).not.toContain(secret);
}
