/** The README's quick start, `npm run demo`, and its `-- --clean` that removes what the demo made. */
import { expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { REPO } from "../helpers/cli.ts";
import { isRunning, volumeExists } from "../helpers/docker.ts";

setDefaultTimeout(180_000);

const demo = (...args: string[]) => spawnSync("bash", ["scripts/demo.sh", ...args], { cwd: REPO, encoding: "utf8" });

test("the demo backs up a running service, says how to clean up, and --clean removes container, volume and files", () => {
  const made = demo();
  expect({ code: made.status, err: made.stderr }).toMatchObject({ code: 0 });
  expect(made.stdout).toContain("demo_");
  expect(made.stderr).toContain("npm run demo -- --clean");
  // Built and run under this test's NODE_ENV=test, the binary still says what it does.
  expect(made.stderr).toContain("demo: archiving tools-backup-demo-data");
  expect(isRunning("tools-backup-demo")).toBe(true);
  expect(volumeExists("tools-backup-demo-data")).toBe(true);

  const cleaned = demo("--clean");
  expect(cleaned.status).toBe(0);
  expect(spawnSync("docker", ["container", "inspect", "tools-backup-demo"]).status).not.toBe(0);
  expect(volumeExists("tools-backup-demo-data")).toBe(false);
  expect(fs.existsSync(path.join(REPO, ".tmp", "demo"))).toBe(false);
});

test("an unknown demo option is a usage error that changes nothing", () => {
  const r = demo("--bogus");
  expect(r.status).toBe(2);
  expect(r.stderr).toContain("usage: npm run demo [-- --clean]");
});
