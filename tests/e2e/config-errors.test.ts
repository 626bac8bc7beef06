/**
 * Usage and configuration errors: exit 2, one message on stderr (with file:line:col for files),
 * no stack trace, nothing on stdout, nothing run. None of these need Docker.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { cleanupCliTemp, type RunResult, run, stackLines, tempDir } from "../helpers/cli.ts";
import { uniqueName } from "../helpers/docker.ts";
import { makeProject } from "../helpers/project.ts";

setDefaultTimeout(120_000);
afterAll(cleanupCliTemp);

function expectUsageError(r: RunResult, ...patterns: (string | RegExp)[]): void {
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 2 });
  expect(stackLines(r.stderr)).toEqual([]);
  expect(r.stderr).not.toContain("unexpected error");
  expect(r.stdout).toBe("");
  for (const p of patterns) expect(r.stderr).toMatch(p);
}

const at = (file: string, line: number, col: number) => `${file}:${line}:${col}: `;

describe("backup.yaml mistakes name file:line:col", () => {
  const cases: { name: string; yaml: (dir: string) => string; line: number; col: number; says: RegExp[] }[] = [
    {
      name: "unknown key with did-you-mean",
      yaml: (d) => `backup_dir: ${d}\nretension_days: 7\n`,
      line: 2,
      col: 1,
      says: [/unknown key "retension_days"/, /did you mean "retention_days"\?/],
    },
    {
      name: "wrong type",
      yaml: (d) => `backup_dir: ${d}\nretention_days: "seven"\n`,
      line: 2,
      col: 17,
      says: [/retention_days/, /"seven"/, /expected/],
    },
    {
      name: "number out of range",
      yaml: (d) => `backup_dir: ${d}\nkeep_last: 0\n`,
      line: 2,
      col: 12,
      says: [/keep_last/, /found 0/],
    },
    {
      name: "bad compression",
      yaml: (d) => `backup_dir: ${d}\ncompression: xz\n`,
      line: 2,
      col: 14,
      says: [/compression/, /"zstd" or "gzip"/, /"xz"/],
    },
    {
      name: "missing backup_dir",
      yaml: () => `retention_days: 7\n`,
      line: 1,
      col: 1,
      says: [/backup_dir/, /found nothing/],
    },
    {
      name: "unset variable in backup_dir",
      yaml: () => `backup_dir: $TBTEST_UNSET_VARIABLE/x\n`,
      line: 1,
      col: 13,
      says: [/TBTEST_UNSET_VARIABLE is not set/],
    },
    { name: "duplicate key", yaml: (d) => `backup_dir: ${d}\nbackup_dir: ${d}\n`, line: 2, col: 1, says: [/unique/] },
    {
      name: "a list instead of a mapping",
      yaml: () => `- a\n- b\n`,
      line: 1,
      col: 1,
      says: [/expected a mapping, found a list/],
    },
    {
      name: "service value not a boolean",
      yaml: (d) => `backup_dir: ${d}\nservices:\n  demo: yes\n`,
      line: 3,
      col: 9,
      says: [/services\.demo/, /true or false/],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const p = makeProject({ config: "" });
      fs.writeFileSync(p.config, c.yaml(p.backupDir));
      for (const cmd of [["list"], ["backup"], ["prune", "--dry-run"], ["services"]]) {
        expectUsageError(run([...cmd, ...p.args], { stateHome: p.stateHome }), at(p.config, c.line, c.col), ...c.says);
      }
    });
  }

  test("YAML syntax error", () => {
    const p = makeProject({ config: `backup_dir: /tmp/x\nretention_days: [7\nkeep_last: 3\n` });
    expectUsageError(
      run(["list", ...p.args]),
      new RegExp(`^\\S+ error: ${p.config.replace(/[.]/g, "\\.")}:\\d+:\\d+: `, "m"),
    );
  });

  test("a mistake in service.yaml is positioned too, with did-you-mean", () => {
    const p = makeProject({ services: { app: `name: App\ndata:\n  volumez:\n    - name: v\n` } });
    const file = path.join(p.root, "services", "app", "service.yaml");
    expectUsageError(
      run(["backup", "app", ...p.args]),
      at(file, 3, 3),
      /unknown key "volumez"/,
      /did you mean "volumes"\?/,
    );
  });
});

describe("command line mistakes", () => {
  test("unknown service on the command line, with did-you-mean", () => {
    const p = makeProject({ services: { alpha: [{ name: uniqueName("v") }] } });
    expectUsageError(run(["backup", "nosuch", ...p.args]), /unknown service "nosuch"/);
    expectUsageError(run(["backup", "alpah", ...p.args]), /did you mean "alpha"/);
    expectUsageError(run(["backup", "alpha", "nosuch", ...p.args]), /nosuch/); // checked before anything runs
    expect(fs.existsSync(p.serviceFolder("alpha"))).toBe(false);
  });

  test("service names with shell metacharacters are refused and never executed", () => {
    const p = makeProject({ services: { alpha: [{ name: uniqueName("v") }] } });
    const marker = path.join(os.tmpdir(), uniqueName("pwned"));
    const legacy = "/tmp/pwned";
    const legacyBefore = fs.existsSync(legacy);
    const names = [
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `x; touch ${marker}`,
      "$(touch /tmp/pwned)",
      "../alpha",
      "Alpha",
      "a b",
    ];
    for (const name of names) {
      for (const cmd of ["backup", "list", "verify"]) {
        expectUsageError(run([cmd, name, ...p.args], { cwd: p.root }), /invalid service name|unknown service/);
      }
    }
    const inConfig = makeProject({ config: `backup_dir: /tmp/x\nservices:\n  "$(touch ${marker})": true\n` });
    expectUsageError(run(["backup", ...inConfig.args]), at(inConfig.config, 3, 3), /invalid service name/);
    expect(fs.existsSync(marker)).toBe(false);
    if (!legacyBefore) expect(fs.existsSync(legacy)).toBe(false);
  });

  test("unknown option --dryrun is refused, nothing is pruned", () => {
    const p = makeProject();
    expectUsageError(run(["prune", "--dryrun", ...p.args]), /unknown option "--dryrun"/);
    expectUsageError(run(["backup", "--force", ...p.args]), /unknown option "--force"/);
  });

  test("unknown command", () => {
    expectUsageError(run(["bakcup"]), /unknown command "bakcup"/);
  });

  test("no backup.yaml anywhere, or --config naming a missing file", () => {
    const empty = tempDir();
    expectUsageError(run(["list"], { cwd: empty }), /no backup\.yaml found/);
    expectUsageError(run(["backup"], { cwd: empty }), /no backup\.yaml found/);
    expectUsageError(run(["list", "--config", "nope.yaml"], { cwd: empty }), /config file not found: .*nope\.yaml/);
    expectUsageError(
      run(["list"], { cwd: empty, env: { TOOLS_BACKUP_CONFIG: path.join(empty, "gone.yaml") } }),
      /gone\.yaml/,
    );
  });

  test("no service enabled and none named: exit 2", () => {
    const p = makeProject({ services: { alpha: [{ name: uniqueName("v") }] }, config: { services: { alpha: false } } });
    expectUsageError(run(["backup", ...p.args]), /no service is enabled/);
  });
});

describe("--version and --help", () => {
  test("--version prints the version and the platform it was built for on stdout, exit 0", () => {
    const r = run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${r.stdout.split(" ")[0]} (${process.platform}-${process.arch})\n`);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\S* \(/);
    expect(r.stderr).toBe("");
  });

  test("--help prints usage on stdout, exit 0, no colour codes", () => {
    const r = run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/USAGE/i);
    for (const cmd of ["backup", "list", "verify", "prune", "services"]) expect(r.stdout).toContain(cmd);
    expect(r.stdout).not.toContain("\x1b[");
    for (const cmd of ["backup", "list", "verify", "prune", "services"]) {
      const sub = run([cmd, "--help"]);
      expect(sub.code).toBe(0);
      expect(sub.stdout).toMatch(/USAGE/i);
      expect(sub.stdout).toContain("--config");
    }
    expect(run(["prune", "--help"]).stdout).toContain("--dry-run");
  });
});
