/** lifecycle.backup / lifecycle.restore: the service's own scripts instead of stop-archive-start. */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { sha256 } from "../helpers/archive.ts";
import { cleanupCliTemp, waitFor } from "../helpers/cli.ts";
import { filesIn, readJson, textIfAny } from "../helpers/project.ts";
import { listed, tb, tbStart } from "../helpers/restore-kit.ts";
import { BACKUP_OK, data, LOG, RESTORE_OK, scripted, writeScript } from "../helpers/scripted.ts";

setDefaultTimeout(120_000);
afterAll(cleanupCliTemp);

test("backup runs backup.sh (SERVICE, BACKUP_DIR, BACKUP_FILE); restore runs restore.sh on the chosen archive", () => {
  const s = scripted({ "backup.sh": BACKUP_OK, "restore.sh": RESTORE_OK });
  const r = tb(s, ["backup", s.name]);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.code).toBe(0);
  const [b] = listed(s);
  const manifest = readJson(b!.manifest);
  expect(manifest).toMatchObject({ custom_script: true, volumes: [], kind: "manual", containers_stopped: [] });
  expect(fs.readFileSync(b!.file, "utf8")).toBe("payload-1\n");
  expect(manifest.archive).toMatchObject({ bytes: 10, sha256: sha256(b!.file) });
  const folder = s.p.serviceFolder(s.name);
  expect(filesIn(folder)).toEqual([`${b!.id}.json`, path.basename(b!.file)].sort());

  const [service, dir, file, pwd] = s.log();
  expect(service).toBe(`backup SERVICE=${s.name}`);
  expect(dir).toBe(`backup BACKUP_DIR=${s.p.backupDir}`);
  const written = file!.slice("backup BACKUP_FILE=".length);
  expect(path.dirname(written)).toBe(folder);
  expect(path.basename(written)).toStartWith(`.tmp-${path.basename(b!.file)}`); // written under a temporary name
  expect(pwd).toBe(`backup PWD=${fs.realpathSync(s.dir)}`);

  fs.writeFileSync(path.join(s.dir, "data.txt"), "payload-2\n");
  const rr = tb(s, ["restore", s.name, "--yes"]);
  expect(rr.stderr).not.toMatch(/^\s+at /m);
  expect(rr.code).toBe(0);
  expect(data(s)).toBe("payload-1\n");
  const restoreLines = s.log().filter((l) => l.startsWith("restore "));
  expect(restoreLines).toEqual([
    `restore SERVICE=${s.name}`,
    `restore BACKUP_DIR=${s.p.backupDir}`,
    `restore BACKUP_FILE=${b!.file}`,
    `restore PWD=${fs.realpathSync(s.dir)}`,
  ]);
  const safety = listed(s).find((x) => x.kind === "pre-restore");
  expect(safety).toBeDefined(); // made by backup.sh, before restore.sh ran
  expect(fs.readFileSync(safety!.file, "utf8")).toBe("payload-2\n");
});

test("a failing restore.sh is run again on the safety backup; exit 1", () => {
  const s = scripted({ "backup.sh": BACKUP_OK, "restore.sh": `${RESTORE_OK}\ngrep -q payload-2 data.txt` });
  expect(tb(s, ["backup", s.name]).code).toBe(0);
  fs.writeFileSync(path.join(s.dir, "data.txt"), "payload-2\n");
  const r = tb(s, ["restore", s.name, "--yes"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/safety backup/);
  expect(data(s)).toBe("payload-2\n");
  expect(s.log().filter((l) => l.startsWith("restore BACKUP_FILE="))).toHaveLength(2);
  expect(tb(s, ["backup", s.name]).code).toBe(0); // put back: nothing unfinished to refuse for
});

describe("a backup script that fails keeps nothing in backup_dir", () => {
  const cases: [string, string, RegExp][] = [
    ["exits 1 after writing part of the file", `echo partial > "$BACKUP_FILE"\nexit 1`, /exited with code 1/],
    ["exits 0 but writes no file", "true", /wrote no file/],
    [
      "makes a directory at BACKUP_FILE",
      `mkdir "$BACKUP_FILE"\necho part > "$BACKUP_FILE/part"`,
      /backup\.sh wrote a directory, not a file, at BACKUP_FILE/,
    ],
  ];
  for (const [label, body, message] of cases) {
    test(label, () => {
      const s = scripted({ "backup.sh": body, "restore.sh": RESTORE_OK });
      const r = tb(s, ["backup", s.name]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain("backup.sh");
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(filesIn(s.p.serviceFolder(s.name))).toEqual([]);
      expect(listed(s)).toEqual([]);
    });
  }
});

test("backup.sh without restore.sh: backups work, restore (and --dry-run) refuses with exit 1 and runs nothing", () => {
  const s = scripted({ "backup.sh": BACKUP_OK }, "lifecycle:\n  backup: ./backup.sh\n");
  expect(tb(s, ["backup", s.name]).code).toBe(0);
  fs.writeFileSync(path.join(s.dir, "data.txt"), "payload-2\n");
  const logged = s.log().length;
  for (const extra of [["--yes"], ["--dry-run"]]) {
    const r = tb(s, ["restore", s.name, ...extra]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/lifecycle\.restore/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }
  expect(s.log()).toHaveLength(logged); // not even a safety backup ran
  expect(data(s)).toBe("payload-2\n");
  expect(listed(s)).toHaveLength(1);
});

const badScripts: [string, string, (dir: string, services: string) => void, RegExp][] = [
  [
    "../escape.sh (outside the folder)",
    "../escape.sh",
    (_d, services) => fs.writeFileSync(path.join(services, "escape.sh"), "#!/bin/sh\n", { mode: 0o755 }),
    /outside the service folder/,
  ],
  [
    "a symlink leading out of the folder",
    "./link.sh",
    (d, services) => {
      fs.writeFileSync(path.join(services, "escape.sh"), "#!/bin/sh\n", { mode: 0o755 });
      fs.symlinkSync("../escape.sh", path.join(d, "link.sh"));
    },
    /links outside/,
  ],
  ["a missing script", "./missing.sh", () => {}, /not found/],
  [
    "a script that is not executable",
    "./plain.sh",
    (d) => fs.writeFileSync(path.join(d, "plain.sh"), "#!/bin/sh\n", { mode: 0o644 }),
    /not executable/,
  ],
];
for (const [label, script, prepare, message] of badScripts) {
  test(`lifecycle.backup: ${label} is a configuration error, exit 2, nothing runs`, () => {
    const s = scripted({ "backup.sh": BACKUP_OK }, `lifecycle:\n  backup: ${script}\n`);
    prepare(s.dir, path.join(s.p.root, "services"));
    for (const args of [
      ["backup", s.name],
      ["restore", s.name, "--yes"],
    ]) {
      const r = tb(s, args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/service\.yaml:4:11:/);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    expect(filesIn(s.p.serviceFolder(s.name))).toEqual([]);
  });
}

test("backup --json: the script's stdout goes to stderr, stdout stays JSON", () => {
  const s = scripted({ "backup.sh": `echo note-from-the-script\n${BACKUP_OK}`, "restore.sh": RESTORE_OK });
  const r = tb(s, ["backup", s.name, "--json"]);
  expect(r.code).toBe(0);
  expect(() => JSON.parse(r.stdout)).not.toThrow();
  expect(r.stdout).not.toContain("note-from-the-script");
  expect(r.stderr).toContain("note-from-the-script");
});

describe("a restore.sh that fails, also on the safety backup, leaves the service marked unfinished", () => {
  const cases: [string, string[], RegExp][] = [
    [
      "with a safety backup",
      [],
      /ROLLBACK FAILED \(\S*restore\.sh exited with code 4\), so the data of \S+ may be partly written: restore by hand with tools-backup restore \S+ --from \S+_\d{8}T\d{6}Z_\S+/,
    ],
    [
      "with --no-safety-backup",
      ["--no-safety-backup"],
      /no safety backup \(--no-safety-backup\), so the data of \S+ may be partly written/,
    ],
  ];
  for (const [label, extra, message] of cases) {
    test(label, () => {
      const s = scripted({ "backup.sh": BACKUP_OK, "restore.sh": `${LOG("restore")}\nexit 4` });
      expect(tb(s, ["backup", s.name]).code).toBe(0);
      const [b] = listed(s);
      const r = tb(s, ["restore", s.name, "--yes", ...extra]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/exited with code 4/);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);

      const refused = tb(s, ["backup", s.name]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/did not finish .* no backup is taken until that is resolved/);
      expect(listed(s).filter((x) => x.kind !== "pre-restore")).toHaveLength(1);

      writeScript(s.dir, "restore.sh", RESTORE_OK);
      expect(tb(s, ["restore", s.name, "--yes", "--from", b!.id]).code).toBe(0);
      expect(tb(s, ["backup", s.name]).code).toBe(0);
    });
  }
});

describe("SIGINT while a script runs stops every process it started, then exits 130", () => {
  const pids = (dir: string) => (textIfAny(path.join(dir, "pids.txt")) ?? "").split("\n").filter(Boolean).map(Number);
  /** Pids the script wrote to pids.txt that still run; a zombie runs nothing (pid 1 may not reap it). */
  const stillRunning = (dir: string) =>
    pids(dir).filter((pid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
      } catch {
        return false;
      }
    });
  const cases: [string, string, number][] = [
    [
      "a background child and a subshell's child",
      `sleep 300 &\necho $! >> pids.txt\n( sleep 300 & echo $! >> pids.txt; wait ) &\necho $! >> pids.txt\necho $$ >> pids.txt\nwait`,
      4,
    ],
    // The group is killed once TOOLS_BACKUP_STOP_TIMEOUT (1 s) has passed.
    ["a script that ignores SIGTERM", `trap '' TERM\nsleep 60 &\necho $! >> pids.txt\necho $$ >> pids.txt\nwait`, 2],
  ];
  for (const [label, body, count] of cases) {
    test(label, async () => {
      const s = scripted({ "backup.sh": body, "restore.sh": RESTORE_OK });
      const run = tbStart(s, ["backup", s.name], { TOOLS_BACKUP_STOP_TIMEOUT: "1" });
      try {
        expect(await waitFor(() => pids(s.dir).length === count, 20_000)).toBe(true);
        const t0 = Date.now();
        run.child.kill("SIGINT");
        const r = await run.done;
        expect(r.code).toBe(130);
        expect(Date.now() - t0).toBeLessThan(8_000);
        expect(stillRunning(s.dir)).toEqual([]);
        expect(filesIn(s.p.serviceFolder(s.name))).toEqual([]);
      } finally {
        for (const pid of stillRunning(s.dir)) process.kill(pid, "SIGKILL");
      }
    });
  }

  test("restore: the rollback runs once nothing of the interrupted run can write any more", async () => {
    // The first run leaves a writer looping; the second (on the safety backup) restores plainly.
    const restore = `if [ -e started ]; then cat "$BACKUP_FILE" > data.txt; exit 0; fi\ntouch started\n( while :; do cat "$BACKUP_FILE" > data.txt; sleep 0.05; done ) &\necho $! >> pids.txt\necho $$ >> pids.txt\nwait`;
    const s = scripted({ "backup.sh": BACKUP_OK, "restore.sh": restore });
    expect(tb(s, ["backup", s.name]).code).toBe(0);
    fs.writeFileSync(path.join(s.dir, "data.txt"), "payload-2\n");
    const run = tbStart(s, ["restore", s.name, "--yes"], { TOOLS_BACKUP_STOP_TIMEOUT: "1" });
    try {
      expect(await waitFor(() => pids(s.dir).length === 2 && data(s) === "payload-1\n", 20_000)).toBe(true);
      run.child.kill("SIGINT");
      const r = await run.done;
      expect(r.code).toBe(130);
      expect(stillRunning(s.dir)).toEqual([]);
      await Bun.sleep(300);
      expect(data(s)).toBe("payload-2\n");
    } finally {
      for (const pid of stillRunning(s.dir)) process.kill(pid, "SIGKILL");
    }
  });
});
