/**
 * No command string is ever built for a shell: `$(touch …)`, backticks, `; rm -rf …`, quotes and
 * `%` in backup_dir, the config path, the state folder and the host name execute nothing, also
 * when cron runs the installed line through /bin/sh. Files and folders are private whatever the
 * umask; the crontab line, logs, outputs and state files carry no environment values.
 * (Hostile names as arguments and in service.yaml: config-errors and bad-input; hostile archives:
 * restore-safety and faults-hostile-archives.) The schedule goes into a fake crontab, never root's.
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { BIN, binaryEnv, cleanupCliTemp, type RunResult, stackLines, tempDir } from "../helpers/cli.ts";
import { cleanupDocker, createVolume, fillVolume, runContainer, uniqueName } from "../helpers/docker.ts";
import { fakeCrontab, runLikeCron } from "../helpers/fake-crontab.ts";
import { containerInfo, svcName } from "../helpers/faults.ts";

setDefaultTimeout(240_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

/** The binary under `umask MASK`, with the given environment on top of the test defaults. */
function tb(args: string[], env: Record<string, string>, umask = "022"): RunResult {
  const r = spawnSync("/bin/sh", ["-c", `umask ${umask}; exec "$0" "$@"`, BIN, ...args], {
    env: binaryEnv({ env, stateHome: env.XDG_STATE_HOME }),
    cwd: os.tmpdir(),
    encoding: "utf8",
    timeout: 110_000,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** A tools root in `base`: services/<svc> with one volume and a running app, backup.yaml, backups/. */
function project(base: string) {
  const svc = svcName("sec");
  const vol = createVolume();
  fillVolume(vol, "echo secret data > data.txt");
  const app = runContainer(uniqueName("app"), [vol]);
  fs.mkdirSync(path.join(base, "services", svc), { recursive: true });
  fs.mkdirSync(path.join(base, "backups"));
  fs.writeFileSync(
    path.join(base, "services", svc, "service.yaml"),
    YAML.stringify({ data: { volumes: [{ name: vol, container: app }] } }),
  );
  const config = path.join(base, "backup.yaml");
  fs.writeFileSync(config, YAML.stringify({ backup_dir: path.join(base, "backups"), services: { [svc]: true } }));
  return { svc, vol, app, config, folder: path.join(base, "backups", svc) };
}

const walk = (dir: string): string[] =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? [path.join(dir, e.name), ...walk(path.join(dir, e.name))] : [path.join(dir, e.name)],
    );
const modeOf = (f: string) => (fs.statSync(f).mode & 0o777).toString(8);

test("shell metacharacters in backup_dir, config path, state folder and host name execute nothing, also through the cron line", () => {
  const marker = path.join(os.tmpdir(), uniqueName("pwned"));
  const victim = tempDir("tbtest-victim-");
  fs.writeFileSync(path.join(victim, "keep.txt"), "still here\n");
  // Slashes inside these names simply make more folders; a shell would run the commands instead.
  const base = path.join(
    tempDir("tbtest-evil-"),
    `$(touch ${marker})`,
    `a; rm -rf ${victim}; b`,
    `it's 100% "q" & \`touch ${marker}\` | x`,
  );
  fs.mkdirSync(base, { recursive: true });
  const s = project(base);
  const cron = fakeCrontab();
  const env = {
    XDG_STATE_HOME: path.join(base, "state"),
    TOOLS_BACKUP_HOST: `$(touch ${marker});rm -rf ${victim}`,
    ...cron.env,
  };
  const args = ["--config", s.config];

  const backup = tb(["backup", s.svc, ...args], env);
  expect({ code: backup.code, stack: stackLines(backup.stderr) }).toEqual({ code: 0, stack: [] });
  const names = fs.readdirSync(s.folder);
  expect(names.filter((n) => n.endsWith(".tar.zst"))).toHaveLength(1);
  for (const n of names) expect(n).toMatch(/^[A-Za-z0-9_.-]+$/); // the host name was made safe
  for (const cmd of [["list"], ["verify"], ["restore", s.svc, "--yes"], ["status"], ["services"]]) {
    expect({ cmd, code: tb([...cmd, ...args], env).code }).toEqual({ cmd, code: 0 });
  }

  expect(tb(["cron", "install", ...args], env).code).toBe(0);
  const line = cron.line()!;
  expect(line).toBeDefined();
  const status = JSON.parse(tb(["cron", "status", "--json"], env).stdout);
  expect(status).toMatchObject({ installed: true, executable: BIN, executable_exists: true });
  const ran = runLikeCron(line);
  expect({ code: ran.code, out: ran.stdout + ran.stderr }).toEqual({ code: 0, out: "" });
  const log = fs.readFileSync(path.join(base, "state", "tools-backup", "cron.log"), "utf8");
  expect(log).toContain("scheduled backup of");
  expect(fs.readdirSync(s.folder).filter((n) => n.endsWith(".json"))).toHaveLength(3); // manual, pre-restore, scheduled

  expect(containerInfo(s.app).running).toBe(true);
  expect(fs.existsSync(marker)).toBe(false);
  expect(fs.readFileSync(path.join(victim, "keep.txt"), "utf8")).toBe("still here\n");
});

test("private whatever the umask (000): backups 0600 in 0700 folders, the state folder and its files too; no environment value leaks", () => {
  const secrets = {
    SECRET_TOKEN: `xyz-${uniqueName("tok")}`,
    AWS_SECRET_ACCESS_KEY: `aws-${uniqueName("k")}`,
    DB_PASSWORD: `pw-${uniqueName("p")}`,
  };
  const values = Object.values(secrets);
  const base = tempDir("tbtest-priv-");
  const s = project(base);
  const cron = fakeCrontab();
  const state = path.join(base, "state");
  const env = { XDG_STATE_HOME: state, ...cron.env, ...secrets };
  const args = ["--config", s.config];
  const outputs: RunResult[] = [];
  const ok = (cmd: string[], code = 0) => {
    const r = tb([...cmd, ...args], env, "000");
    outputs.push(r);
    expect({ cmd, code: r.code }).toEqual({ cmd, code });
  };

  ok(["backup", s.svc]);
  ok(["restore", s.svc, "--yes"]);
  ok(["cron", "install"]);
  const line = cron.line()!;
  // The scheduled run with the secrets in its environment too, under cron's usual umask.
  const ran = runLikeCron(line, secrets);
  expect(ran.code).toBe(0);
  ok(["list", "--json"]);
  ok(["status", "--json"]);
  ok(["services", "--json"]);
  ok(["backup", "nosuchservice", "--debug"], 2);
  fs.writeFileSync(
    path.join(base, "services", s.svc, "service.yaml"),
    YAML.stringify({ data: { volumes: [{ name: uniqueName("missing") }] } }),
  );
  ok(["backup", s.svc, "--debug"], 1); // a failing run: its error message and stack must not carry the environment either

  for (const v of values) {
    expect(line).not.toContain(v);
    expect(cron.table()).not.toContain(v);
    for (const r of outputs) expect(r.stdout + r.stderr).not.toContain(v);
    for (const f of walk(state).filter((x) => fs.statSync(x).isFile()))
      expect({ f, leak: fs.readFileSync(f, "utf8").includes(v) }).toEqual({ f, leak: false });
  }

  const backups = walk(path.join(base, "backups", s.svc));
  expect(backups.length).toBeGreaterThanOrEqual(6);
  expect(modeOf(s.folder)).toBe("700");
  for (const f of backups) expect({ f, mode: modeOf(f) }).toEqual({ f, mode: "600" });
  const stateFiles = [path.join(state, "tools-backup"), ...walk(path.join(state, "tools-backup"))];
  expect(stateFiles.map((f) => path.basename(f))).toEqual(
    expect.arrayContaining(["tools-backup", "locks", "status.json", "cron.log"]),
  );
  // cron.log is created by the shell's `>>` in the crontab line, with cron's umask, unless the tool makes it first.
  const loose = stateFiles
    .filter((f) => modeOf(f) !== (fs.statSync(f).isDirectory() ? "700" : "600"))
    .map((f) => `${f} ${modeOf(f)}`);
  expect(loose).toEqual([]);
});
