/**
 * Bad input: clear message, exit 2, nothing changed, no stack trace. config-errors.test.ts covers
 * the basic mistakes (syntax, "seven", keep_last 0, unknown key, unset variable, bad names on
 * backup/list/verify); this adds ranges, blanks, wrong shapes, hostile names in service.yaml,
 * unusable service.yaml files, the restore command line, flags given a value they do not take or
 * missing the one they need, and TOOLS_BACKUP_STOP_TIMEOUT. Damaged archives: faults-bad-archives.
 */
import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { snapshot } from "../helpers/archive.ts";
import { cleanupCliTemp, type RunResult, run } from "../helpers/cli.ts";
import {
  cleanupDocker,
  createVolume,
  fillVolume,
  isRunning,
  runContainer,
  startedAt,
  uniqueName,
} from "../helpers/docker.ts";
import { expectClean, listJson, svcName } from "../helpers/faults.ts";
import { makeProject } from "../helpers/project.ts";

setDefaultTimeout(120_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

const marker = path.join(os.tmpdir(), uniqueName("pwned"));
afterAll(() => expect(fs.existsSync(marker)).toBe(false));

function expectUsage(r: RunResult, ...patterns: (string | RegExp)[]): void {
  expectClean(r, 2, ...patterns);
  expect(r.stdout).toBe("");
}
const at = (file: string) => new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: `);

describe("backup.yaml values", () => {
  const bomb = [
    "a: &a [x, x, x, x, x, x, x, x, x, x]",
    ...["b", "c", "d", "e", "f", "g", "h"].map(
      (k, i) => `${k}: &${k} [${Array(10).fill(`*${"abcdefg"[i]}`).join(", ")}]`,
    ),
  ].join("\n");
  const cases: [string, string, RegExp][] = [
    ["negative retention", "retention_days: -1", /retention_days: expected a whole number from 1 to 36500, found -1/],
    ["retention one past the limit", "retention_days: 36501", /found 36501/],
    ["retention 1e400 (Infinity)", "retention_days: 1e400", /retention_days: .*found Infinity/],
    ["fractional keep_last", "keep_last: 1.5", /keep_last: .*found 1\.5/],
    ["negative keep_last", "keep_last: -3", /keep_last: .*found -3/],
    ["huge keep_last", "keep_last: 99999999999", /keep_last: expected a whole number from 1 to 10000/],
    ["retention as a list", "retention_days: [7]", /retention_days: expected/],
    ["compression empty", "compression: ''", /compression: expected "zstd" or "gzip"/],
    ["services as a list", "services: [a, b]", /services: expected a mapping/],
    ["a YAML alias bomb", bomb, /alias|resource/i],
  ];
  for (const [label, extra, says] of cases) {
    test(label, () => {
      const p = makeProject({ config: "" });
      fs.writeFileSync(p.config, `backup_dir: ${p.backupDir}\n${extra}\n`);
      for (const cmd of [["list"], ["backup"], ["prune"], ["status"]])
        expectUsage(run([...cmd, ...p.args], { stateHome: p.stateHome }), at(p.config), says);
      expect(fs.readdirSync(p.backupDir)).toEqual([]);
    });
  }

  const dirs: [string, string, RegExp][] = [
    ["empty backup_dir", `backup_dir: ""`, /backup_dir: expected a folder path, found ""/],
    ["blank backup_dir", `backup_dir: "   "`, /backup_dir: expected a folder path/],
    ["backup_dir with nothing after it", "backup_dir:", /backup_dir: expected a folder path, found nothing/],
    ["backup_dir of another user's home", "backup_dir: ~bob/backups", /"~bob" is not supported/],
    ["backup_dir a number", "backup_dir: 42", /backup_dir: expected a folder path, found 42/],
    ["an empty file", "", /backup_dir: expected a folder path, found nothing/],
  ];
  for (const [label, text, says] of dirs) {
    test(label, () => {
      const p = makeProject({ config: "" });
      fs.writeFileSync(p.config, text);
      for (const cmd of [["list"], ["backup"], ["prune"]])
        expectUsage(run([...cmd, ...p.args], { stateHome: p.stateHome, cwd: p.root }), at(p.config), says);
      expect(fs.readdirSync(p.root).sort()).toEqual(["backup.yaml", "backups", "services"]);
    });
  }
});

describe("service.yaml", () => {
  const cases: [string, string, RegExp][] = [
    ["volumes is a string", "data:\n  volumes: myvol\n", /data\.volumes: .*non-empty list of volumes/],
    ["volumes is empty", "data:\n  volumes: []\n", /non-empty list of volumes/],
    ["a volume name that is a number", "data:\n  volumes:\n    - name: 123\n", /name: expected a docker volume name/],
    ["a volume without a name", "data:\n  volumes:\n    - container: app\n", /name/],
    [
      "an unknown key in a volume",
      "data:\n  volumes:\n    - name: v\n      mountpoint: /x\n",
      /unknown key "mountpoint"/,
    ],
    [
      "a container that is a list",
      "data:\n  volumes:\n    - name: v\n      container: [a]\n",
      /container: expected a docker container name/,
    ],
    ["a YAML syntax error", "data:\n  volumes: [v\n", /service\.yaml:\d+:\d+/],
    [
      "volume name with ; touch",
      `data:\n  volumes:\n    - name: "v; touch ${marker}"\n`,
      /expected a docker volume name/,
    ],
    ["volume name with $()", `data:\n  volumes:\n    - name: "$(touch ${marker})"\n`, /expected a docker volume name/],
    ["volume name with a space", `data:\n  volumes:\n    - name: "my vol"\n`, /expected a docker volume name/],
    ["volume name ../etc", `data:\n  volumes:\n    - name: "../etc"\n`, /expected a docker volume name/],
    [
      "volume name starting with a dash",
      `data:\n  volumes:\n    - name: "-v/:/host"\n`,
      /expected a docker volume name/,
    ],
    [
      "container name with backticks",
      `data:\n  volumes:\n    - name: v\n      container: "\`touch ${marker}\`"\n`,
      /expected a docker container name/,
    ],
    [
      "container name with ; rm -rf",
      `data:\n  volumes:\n    - name: v\n      container: "app; rm -rf /tmp/x"\n`,
      /expected a docker container name/,
    ],
  ];
  for (const [label, yaml, says] of cases) {
    test(label, () => {
      const p = makeProject({ services: { app: yaml } });
      const file = path.join(p.root, "services", "app", "service.yaml");
      for (const cmd of [["backup", "app"], ["backup"], ["restore", "app", "--yes"], ["services"]])
        expectUsage(run([...cmd, ...p.args], { stateHome: p.stateHome }), at(file), says);
      expect(fs.readdirSync(p.backupDir)).toEqual([]);
    });
  }

  test("service.yaml that is a directory: named as such, exit 2", () => {
    const p = makeProject({ services: { ok: null } });
    fs.mkdirSync(path.join(p.root, "services", "dir", "service.yaml"), { recursive: true });
    const file = path.join(p.root, "services", "dir", "service.yaml");
    for (const cmd of [["backup", "dir"], ["services"]])
      expectUsage(run([...cmd, ...p.args]), `${file} is a directory`);
  });

  test("service.yaml that is a broken symlink: exit 2, and the message names that file, not 'unknown service'", () => {
    const p = makeProject({ services: { ok: null }, config: { services: { dangling: true } } });
    fs.mkdirSync(path.join(p.root, "services", "dangling"));
    const file = path.join(p.root, "services", "dangling", "service.yaml");
    fs.symlinkSync(path.join(p.root, "nowhere", "service.yaml"), file);
    for (const cmd of [["backup", "dangling"], ["backup"]]) {
      const r = run([...cmd, ...p.args]);
      expectUsage(r, /dangling/);
      expect(r.stderr).toContain(file);
    }
  });
});

/** A service with one backup, its volume changed since; optionally a running container using it. */
function withBackup(opts: { container?: boolean } = {}) {
  const svc = svcName("args");
  const vol = createVolume();
  fillVolume(vol, "echo original > a.txt");
  const container = opts.container ? runContainer(uniqueName("app"), [vol]) : undefined;
  const p = makeProject({ services: { [svc]: [{ name: vol, container }] } });
  expect(run(["backup", svc, ...p.args], { stateHome: p.stateHome }).code).toBe(0);
  fillVolume(vol, "echo changed > a.txt");
  const tb = (args: string[], env: Record<string, string> = {}) =>
    run([...args, ...p.args], { stateHome: p.stateHome, env });
  return { svc, vol, container, p, before: snapshot(vol), tb };
}

const nothingRestored = (s: ReturnType<typeof withBackup>) => {
  expect(snapshot(s.vol)).toEqual(s.before);
  expect(listJson(s.p, s.svc).map((b) => b.kind)).toEqual(["manual"]);
};

describe("the restore command line", () => {
  test("hostile or malformed service names: exit 2, nothing run", () => {
    const s = withBackup();
    for (const name of [
      "../" + s.svc,
      `${s.svc}/..`,
      "a b",
      `$(touch ${marker})`,
      `${s.svc}; rm -rf /tmp/x`,
      `${s.svc}\ttab`,
      "",
    ]) {
      expectUsage(s.tb(["restore", name, "--yes"]), /invalid service name|unknown service|SERVICE/);
    }
    expect(snapshot(s.vol)).toEqual(s.before);
    expect(listJson(s.p, s.svc)).toHaveLength(1);
  });

  test("--from with shell metacharacters: no match, exit 2, nothing run", () => {
    const s = withBackup();
    expectUsage(s.tb(["restore", s.svc, "--yes", "--from", `$(touch ${marker})`]), /no backup of .* matches/);
    expectUsage(s.tb(["restore", s.svc, "--yes", "--from", `${s.svc}_; rm -rf /tmp/x`]), /no backup of .* matches/);
    nothingRestored(s);
  });

  test("an empty --from (an unset variable in a script: --from \"$ID\") is refused, not read as 'any backup'", () => {
    const s = withBackup();
    for (const args of [["--from", ""], ["--from="]]) expectUsage(s.tb(["restore", s.svc, "--yes", ...args]), /--from/);
    nothingRestored(s);
  });

  test("a second service name after restore SERVICE is refused, not silently ignored", () => {
    const s = withBackup();
    expectUsage(s.tb(["restore", s.svc, "other", "--yes"]), /other/);
    nothingRestored(s);
  });
});

describe("flags and their values", () => {
  test("restore --yes=no (or 0, off, n) is refused, not read as --yes: nothing restored, the container not stopped", () => {
    const s = withBackup({ container: true });
    const since = startedAt(s.container!);
    for (const no of ["no", "0", "off", "n"])
      expectUsage(s.tb(["restore", s.svc, "--from", "latest", `--yes=${no}`]), "--yes takes no value");
    expectUsage(s.tb(["restore", s.svc, "--yes", "--no-safety-backup=true"]), "--no-safety-backup takes no value");
    nothingRestored(s);
    expect(isRunning(s.container!)).toBe(true);
    expect(startedAt(s.container!)).toBe(since);
  });

  test("a boolean flag with a value is refused on any command, --debug and --help too", () => {
    const p = makeProject({ services: { app: null } });
    for (const [args, says] of [
      [["list", "--json=foo"], "--json takes no value"],
      [["services", "--debug=1"], "--debug takes no value"],
      [["list", "--help=no"], "--help takes no value"],
    ] as const) {
      expectUsage(run([...args, ...p.args]), says);
    }
  });

  test("a string flag without its value is refused, not dropped for the default (here ./backup.yaml, which works)", () => {
    const p = makeProject({ services: { app: null } });
    expect(run(["list"], { cwd: p.root }).code).toBe(0);
    for (const args of [
      ["list", "--config"],
      ["list", "--config", "--json"],
      ["list", "--config="],
    ])
      expectUsage(run(args, { cwd: p.root }), "--config needs a value: --config FILE");
    expectUsage(run(["status", "--max-age", "--json", ...p.args]), "--max-age needs a value");
    expectUsage(run(["restore", "app", "--yes", "--from", ...p.args]), "--from needs a value");
  });

  test("backup --cron with a SERVICE is refused, not run on the enabled services instead", () => {
    const s = withBackup();
    expectUsage(s.tb(["backup", "--cron", s.svc]), "--cron backs up every enabled service; it takes no SERVICE");
    nothingRestored(s);
  });

  test("TOOLS_BACKUP_STOP_TIMEOUT that is not a whole number of seconds: exit 2 before anything is stopped", () => {
    const s = withBackup({ container: true });
    const since = startedAt(s.container!);
    for (const bad of ["abc", "-1", "1.5"]) {
      const env = { TOOLS_BACKUP_STOP_TIMEOUT: bad };
      const says = `TOOLS_BACKUP_STOP_TIMEOUT must be a whole number of seconds (got "${bad}")`;
      expectUsage(s.tb(["backup", s.svc], env), says);
      expectUsage(s.tb(["restore", s.svc, "--yes"], env), says);
    }
    nothingRestored(s);
    expect(isRunning(s.container!)).toBe(true);
    expect(startedAt(s.container!)).toBe(since);
  });
});
