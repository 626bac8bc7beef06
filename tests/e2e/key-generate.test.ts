/**
 * `tools-backup key generate` through the compiled binary: the identity written 0600 where the
 * issue says (or --output), never over an existing file, never printed; its public key on stdout
 * and the reference age CLI encrypting to that key and decrypting with the file.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { cleanupCliTemp, run, tempDir } from "../helpers/cli.ts";
import { mode } from "../helpers/project.ts";

afterAll(cleanupCliTemp);

const RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;

/** The secret line of an identity file (age-keygen's layout: comments, then the key). */
function secretOf(file: string): string {
  const secret = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .find((l) => l.startsWith("AGE-SECRET-KEY-1"));
  if (!secret) throw new Error(`${file} holds no AGE-SECRET-KEY-1 line`);
  return secret;
}

/** The reference age CLI: encrypts `plain` to `recipient`, decrypts it with `identityFile`. */
function ageRoundTrip(recipient: string, identityFile: string, plain: string): string {
  const dir = tempDir("tbtest-age-");
  const sealed = path.join(dir, "plain.age");
  const enc = spawnSync("age", ["-r", recipient, "-o", sealed], { input: plain, encoding: "utf8" });
  expect(enc.stderr).toBe("");
  expect(enc.status).toBe(0);
  const dec = spawnSync("age", ["-d", "-i", identityFile, sealed], { encoding: "utf8" });
  expect(dec.stderr).toBe("");
  expect(dec.status).toBe(0);
  return dec.stdout;
}

describe("key generate", () => {
  test("writes $XDG_CONFIG_HOME/tools/backup.key 0600 in a new 0700 folder; prints the public key; age opens it", () => {
    const config = path.join(tempDir("tbtest-xdg-"), "cfg");
    const r = run(["key", "generate"], { env: { XDG_CONFIG_HOME: config } });
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
    const file = path.join(config, "tools", "backup.key");
    expect(mode(file)).toBe(0o600);
    expect(mode(path.dirname(file))).toBe(0o700);
    const recipient = r.stdout.trim();
    expect(r.stdout).toBe(`${recipient}\n`);
    expect(recipient).toMatch(RECIPIENT);
    const secret = secretOf(file);
    expect(`${r.stdout}${r.stderr}`).not.toContain(secret);
    expect(`${r.stdout}${r.stderr}`).not.toContain("AGE-SECRET-KEY");
    expect(r.stderr).toMatch(/without .*backup\.key.* cannot be restored/i);
    expect(r.stderr).toContain("password manager or a USB stick, not in the backup folder");
    // The lines shown for backup.yaml are YAML that names this key and this file.
    const shown = r.stderr.slice(r.stderr.indexOf("\nencryption:") + 1);
    expect(parse(shown)).toEqual({ encryption: { recipients: [recipient], identity: file } });
    expect(ageRoundTrip(recipient, file, "the backup's bytes\n")).toBe("the backup's bytes\n");
  });

  test("an existing file is never replaced: exit 2, its bytes and mode untouched, nothing on stdout", () => {
    const dir = tempDir("tbtest-keydir-");
    const file = path.join(dir, "old.key");
    fs.writeFileSync(file, "# the only key to last year's backups\nAGE-SECRET-KEY-1OLD\n", { mode: 0o600 });
    const before = fs.readFileSync(file);
    const r = run(["key", "generate", "--output", file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${file} already exists`);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(mode(file)).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(["old.key"]);
  });

  test("--json --output FILE (relative to the current folder): {file, recipient}; the folder keeps its mode", () => {
    const cwd = tempDir("tbtest-keycwd-");
    fs.chmodSync(cwd, 0o755);
    const r = run(["key", "generate", "--json", "--output", "backup.key"], { cwd });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { file: string; recipient: string };
    const file = path.join(cwd, "backup.key");
    expect(Object.keys(out).sort()).toEqual(["file", "recipient"]);
    expect(out.file).toBe(file);
    expect(out.recipient).toMatch(RECIPIENT);
    expect(mode(file)).toBe(0o600);
    // A folder that was there is the user's: it is not made private behind their back.
    expect(mode(cwd)).toBe(0o755);
    expect(`${r.stdout}${r.stderr}`).not.toContain(secretOf(file));
    // age-keygen reads the file and finds the same public key.
    const y = spawnSync("age-keygen", ["-y", file], { encoding: "utf8" });
    expect(y.stdout.trim()).toBe(out.recipient);
    expect(ageRoundTrip(out.recipient, file, "x".repeat(100_000))).toBe("x".repeat(100_000));
  });
});
