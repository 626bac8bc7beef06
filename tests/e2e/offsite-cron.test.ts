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
