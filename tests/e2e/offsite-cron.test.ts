/** `cron install` with offsite copies: keys a scheduled run would not find are warned about, never written. */
import { afterAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, run, tempDir } from "../helpers/cli.ts";
import { fakeCrontab } from "../helpers/fake-crontab.ts";
import { makeProject } from "../helpers/project.ts";

afterAll(cleanupCliTemp);

const SECRET = "cron-must-never-see-this-secret";
const copy = { name: "b2", url: "s3://bucket-x/tools", endpoint: "http://127.0.0.1:9" };

function setup(credentials: boolean) {
  const p = makeProject({ services: { app: [{ name: "tbtest-offcron-vol" }] } });
  const keys = path.join(p.root, "b2.env");
  fs.writeFileSync(keys, `AWS_ACCESS_KEY_ID=KEYID\nAWS_SECRET_ACCESS_KEY=${SECRET}\n`, { mode: 0o600 });
  p.writeConfig({ services: { app: true }, offsite: [{ ...copy, ...(credentials ? { credentials: keys } : {}) }] });
  return p;
}

test("keys only in AWS_* variables: cron install warns (exit 0) and the secret stays out of the crontab", () => {
  const p = setup(false);
  const cron = fakeCrontab();
  const home = tempDir("tbtest-home-");
  const env = { ...cron.env, HOME: home, AWS_ACCESS_KEY_ID: "KEYID", AWS_SECRET_ACCESS_KEY: SECRET };
  const r = run(["cron", "install", ...p.args], { stateHome: p.stateHome, env });
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/offsite copy b2: its keys come from AWS_\* variables, which cron does not pass/);
  expect(cron.line()).toContain("'backup' '--cron'");
  expect(cron.table()).not.toContain(SECRET);
  expect(r.stdout + r.stderr).not.toContain(SECRET);
});

test("keys in a credentials file: no warning, and the secret is not in the crontab either", () => {
  const p = setup(true);
  const cron = fakeCrontab();
  const r = run(["cron", "install", ...p.args], { stateHome: p.stateHome, env: cron.env });
  expect(r.code).toBe(0);
  expect(r.stderr).not.toContain("offsite copy b2");
  expect(cron.table()).not.toContain(SECRET);
});

/** An rclone that only a folder of the test's own holds (a wrapper of the real one), first on PATH. */
function ownRclone(): string {
  const dir = tempDir("tbtest-rclone-bin-");
  fs.writeFileSync(path.join(dir, "rclone"), '#!/bin/sh\nexec /usr/bin/rclone "$@"\n', { mode: 0o755 });
  return dir;
}

function rcloneProject() {
  const p = makeProject({ services: { app: [{ name: "tbtest-offcron-vol" }] } });
  const conf = path.join(p.root, "rclone.conf");
  fs.writeFileSync(conf, "[dav]\ntype = webdav\nurl = http://127.0.0.1:9\n", { mode: 0o600 });
  p.writeConfig({ services: { app: true }, offsite: [{ name: "nas", url: "rclone:dav:tools", rclone_config: conf }] });
  return p;
}

test("an rclone copy: the line's PATH has rclone's folder, and RCLONE_CONFIG is carried when set", () => {
  const p = rcloneProject();
  const bin = ownRclone();
  const cron = fakeCrontab();
  const userConf = path.join(tempDir("tbtest-rclone-home-"), "my rclone.conf");
  const env = { PATH: `${bin}:${cron.env.PATH}`, RCLONE_CONFIG: userConf };
  const r = run(["cron", "install", ...p.args], { stateHome: p.stateHome, env });
  expect(r.code).toBe(0);
  const line = cron.line()!;
  const pathValue = /PATH='([^']*)'/.exec(line)?.[1];
  expect(pathValue?.split(":")).toContain(bin);
  expect(line).toContain(`RCLONE_CONFIG='${userConf}'`);
  const unset = fakeCrontab();
  const r2 = run(["cron", "install", ...p.args], {
    stateHome: p.stateHome,
    env: { PATH: `${bin}:${unset.env.PATH}`, RCLONE_CONFIG: undefined },
  });
  expect(r2.code).toBe(0);
  expect(unset.line()).not.toContain("RCLONE_CONFIG");
  expect(/PATH='([^']*)'/.exec(unset.line()!)?.[1]?.split(":")).toContain(bin);
});

test("without an rclone copy, rclone's folder is not put into the line's PATH", () => {
  const p = setup(true);
  const bin = ownRclone();
  const cron = fakeCrontab();
  const r = run(["cron", "install", ...p.args], { stateHome: p.stateHome, env: { PATH: `${bin}:${cron.env.PATH}` } });
  expect(r.code).toBe(0);
  expect(/PATH='([^']*)'/.exec(cron.line()!)?.[1]?.split(":")).not.toContain(bin);
});
