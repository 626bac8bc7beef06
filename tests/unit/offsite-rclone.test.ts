/** rclone copies: their entries in backup.yaml, and rclone's failures in our words. */
import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadBackupConfig } from "../../src/config/backup-config.ts";
import { ConfigError } from "../../src/config/config-error.ts";
import { notFound, rcloneFailure } from "../../src/offsite/rclone/failure.ts";
import { RcCallError } from "../../src/offsite/rclone/rc-error.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tools-backup-offsite-rclone-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function load(entry: string, confMode = 0o600) {
  const dir = fs.mkdtempSync(path.join(tmp, "t"));
  fs.writeFileSync(path.join(dir, "rclone.conf"), "[gdrive]\ntype = drive\n", { mode: confMode });
  fs.chmodSync(path.join(dir, "rclone.conf"), confMode);
  const file = path.join(dir, "backup.yaml");
  fs.writeFileSync(file, `backup_dir: /b\noffsite:\n  - name: drive\n${entry}`);
  return { dir, load: () => loadBackupConfig(file, {}, "/home/u") };
}

function errorOf(entry: string, confMode?: number): ConfigError {
  try {
    load(entry, confMode).load();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

test("an rclone entry: the remote and path as written, rclone.conf resolved next to backup.yaml", () => {
  const t = load("    url: rclone:gdrive:Backups/tools\n    rclone_config: rclone.conf\n    keep_last: 9\n");
  const [copy] = t.load().offsite;
  expect(copy).toMatchObject({ kind: "rclone", remote: "gdrive:Backups/tools", keepLast: 9, retentionDays: 7 });
  expect(copy?.kind === "rclone" && copy.rcloneConfig).toBe(path.join(t.dir, "rclone.conf"));
  const [plain] = load("    url: rclone:my nas:/srv/b\n").load().offsite;
  expect(plain).toMatchObject({ remote: "my nas:/srv/b", url: "rclone:my nas:/srv/b" });
});

test("rclone mistakes: at their line and column", () => {
  expect(errorOf("    url: rclone:gdrive\n").message).toMatch(/backup\.yaml:4:10: .*expected rclone:REMOTE:PATH/);
  expect(errorOf("    url: rclone:gdrive:x\n    endpoint: http://h:1\n").message).toMatch(
    /backup\.yaml:5:5: .*endpoint is for s3:\/\/ copies/,
  );
  expect(errorOf("    url: s3://bucket-x\n    rclone_config: rclone.conf\n").message).toMatch(
    /backup\.yaml:5:.*rclone_config is for rclone:REMOTE:PATH copies/,
  );
  const open = errorOf("    url: rclone:gdrive:x\n    rclone_config: rclone.conf\n", 0o644);
  expect(open.message).toMatch(/readable by others \(mode 644\): chmod 600/);
  expect(errorOf("    url: ftp://x\n").message).toMatch(/s3:\/\/BUCKET.* or rclone:REMOTE:PATH/);
});

test("rclone's failures in our words, never its raw log", () => {
  const say = (status: number, error: string) =>
    rcloneFailure("nas", "upload of a", new RcCallError(status, error)).message;
  expect(say(500, "couldn't list files: read metadata failed: Unauthorized: 401 Unauthorized")).toBe(
    "nas: upload of a: the remote refused the login: check its user, password or key in rclone.conf",
  );
  expect(say(500, "dial tcp 127.0.0.1:9: connect: connection refused")).toMatch(/connection refused$/);
  expect(say(500, "Forbidden: 403 Forbidden")).toMatch(/refused the write/);
  expect(say(500, "something odd happened")).toBe("nas: upload of a: rclone failed: something odd happened");
  // rclone itself gone: its last words are said as they are, not read as the remote's answer.
  expect(say(0, "rclone ended (exit 1): dial tcp: connection refused")).toBe(
    "nas: upload of a: rclone failed: rclone ended (exit 1): dial tcp: connection refused",
  );
  expect(notFound(new RcCallError(404, "error in ListJSON: directory not found"))).toBe(true);
  expect(notFound(new RcCallError(500, "object not found"))).toBe(true);
  expect(notFound(new RcCallError(500, "401 Unauthorized"))).toBe(false);
});
