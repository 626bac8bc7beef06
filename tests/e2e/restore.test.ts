/** `restore` against a real Docker engine: the round trip, missing volumes, other hosts, --dry-run, --from. */
import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { extract } from "../helpers/archive.ts";
import { cleanupCliTemp } from "../helpers/cli.ts";
import {
  cleanupDocker,
  createVolume,
  docker,
  fillVolume,
  isRunning,
  leftoverHelpers,
  runnersUsing,
  startedAt,
  volumeExists,
} from "../helpers/docker.ts";
import { dockerStandIn } from "../helpers/docker-stand-in.ts";
import {
  app,
  backupOk,
  cleanupApps,
  exists,
  FILL,
  fileInfo,
  HOST,
  listed,
  restamp,
  service,
  state,
  tb,
} from "../helpers/restore-kit.ts";

setDefaultTimeout(120_000);
afterEach(() => {
  cleanupApps();
  cleanupDocker();
});
afterAll(cleanupCliTemp);

const OLD_META = `1000:1000|640|${Date.UTC(2021, 5, 7, 8, 9, 10) / 1000}`;

test("round trip: added file gone, modified file back with owner, mode and mtime; container running; pre-restore listed", () => {
  const s = service();
  const original = state(s.vol);
  const b = backupOk(s);
  fillVolume(
    s.vol,
    "echo added > added.txt && echo changed > modify.txt && chown 0:0 modify.txt && chmod 0666 modify.txt && rm sub/deep.txt",
  );
  expect(exists(s.vol, "added.txt")).toBe(true);
  const before = startedAt(s.container!);

  const r = tb(s, ["restore", s.name, "--yes"]);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(b.id);

  expect(exists(s.vol, "added.txt")).toBe(false);
  expect(fileInfo(s.vol, "modify.txt")).toEqual({ content: "old content\n", meta: OLD_META });
  expect(fileInfo(s.vol, "sub/deep.txt").content).toBe("deep\n");
  expect(state(s.vol)).toEqual(original); // every entry's owner, mode, mtime and content, the root too

  expect(isRunning(s.container!)).toBe(true);
  expect(startedAt(s.container!)).not.toBe(before); // it really was stopped for the replacement
  expect(leftoverHelpers(s.name)).toEqual([]);

  const all = listed(s);
  const safety = all.filter((x) => x.kind === "pre-restore");
  expect(safety).toHaveLength(1);
  expect(all.find((x) => x.id === b.id)?.kind).toBe("manual");
  expect(r.stderr).toContain(safety[0]!.id);
  // The safety backup holds the data as it was just before the restore.
  const out = extract(safety[0]!.file, "zstd");
  expect(fs.readFileSync(path.join(out, s.vol, "added.txt"), "utf8")).toBe("added\n");
  expect(fs.readFileSync(path.join(out, s.vol, "modify.txt"), "utf8")).toBe("changed\n");
});

// Every question about the volume's users waits 2 s here, so the emptying's container (armed
// while the archive is verified) is surely up when they are asked, the safety backup's included.
test("the emptying's container, started before the stop, is not taken for a user of the volume: not stopped, not warned about, gone after", () => {
  const s = service();
  const original = state(s.vol);
  backupOk(s);
  fillVolume(s.vol, "echo added > added.txt");
  const slowPs = dockerStandIn(() => `case "$*" in *'ps --filter volume='*) sleep 2;; esac`, "tbtest-slowps-");
  const r = tb(s, ["restore", s.name, "--yes"], { TOOLS_BACKUP_DOCKER: slowPs.bin });
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  expect(r.stderr).toMatch(new RegExp(`stopping ${s.container}\n`));
  expect(r.stderr).not.toMatch(/not declared/);
  expect(state(s.vol)).toEqual(original);
  expect(isRunning(s.container!)).toBe(true);
  expect(runnersUsing(s.vol)).toBe("");
});

// Restore refuses links that point outside their volume, but backup and verify accept them: common
// data (an absolute symlink like localtime -> /usr/share/zoneinfo/UTC) then has a backup that cannot be restored.
test("symlinks pointing outside the volume (absolute, ../) are backed up, verified, and restored", () => {
  const s = service({
    fill: `${FILL}ln -s /usr/share/zoneinfo/UTC localtime && ln -s ../outside dangling`,
    container: false,
  });
  const original = state(s.vol);
  backupOk(s);
  expect(tb(s, ["verify", s.name]).code).toBe(0);
  fillVolume(s.vol, "echo added > added.txt");
  const r = tb(s, ["restore", s.name, "--yes", "--no-safety-backup"]);
  expect(r.stderr).not.toMatch(/cannot be restored/);
  expect(r.code).toBe(0);
  expect(state(s.vol)).toEqual(original);
});

test("--no-safety-backup restores without making a pre-restore backup", () => {
  const s = service();
  backupOk(s);
  fillVolume(s.vol, "echo added > added.txt");
  const r = tb(s, ["restore", s.name, "--yes", "--no-safety-backup"]);
  expect(r.code).toBe(0);
  expect(exists(s.vol, "added.txt")).toBe(false);
  expect(listed(s).map((x) => x.kind)).toEqual(["manual"]);
});

test("a missing volume is created with the backup's content", () => {
  const s = service();
  const original = state(s.vol);
  backupOk(s);
  docker(["rm", "--force", s.container!]);
  expect(docker(["volume", "rm", s.vol]).code).toBe(0);
  expect(volumeExists(s.vol)).toBe(false);

  const r = tb(s, ["restore", s.name, "--yes"]);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/creat/i);
  expect(volumeExists(s.vol)).toBe(true);
  expect(state(s.vol)).toEqual(original);
  expect(fileInfo(s.vol, "modify.txt")).toEqual({ content: "old content\n", meta: OLD_META });
});

test("a backup made on another host restores here", () => {
  const s = service();
  const b = backupOk(s, { TOOLS_BACKUP_HOST: "otherhost" });
  expect(b.host).toBe("otherhost");
  fillVolume(s.vol, "echo added > added.txt && echo changed > modify.txt");

  const r = tb(s, ["restore", s.name, "--yes", "--from", b.id], { TOOLS_BACKUP_HOST: "thishost" });
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.code).toBe(0);
  expect(exists(s.vol, "added.txt")).toBe(false);
  expect(fileInfo(s.vol, "modify.txt").content).toBe("old content\n");
  const safety = listed(s).find((x) => x.kind === "pre-restore");
  expect(safety?.host).toBe("thishost");
  expect(isRunning(s.container!)).toBe(true);
});

test("--dry-run: exit 0, prints the plan, changes nothing, makes no pre-restore backup", () => {
  const s = service();
  const b = backupOk(s);
  fillVolume(s.vol, "echo added > added.txt");
  const current = state(s.vol);
  const before = startedAt(s.container!);

  const r = tb(s, ["restore", s.name, "--dry-run"]);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(b.id);
  expect(r.stderr).toContain(s.container!);
  expect(r.stderr).toContain(s.vol);
  expect(r.stderr).toMatch(/nothing was changed/);
  expect(r.stdout).toBe("");
  expect(state(s.vol)).toEqual(current);
  expect(startedAt(s.container!)).toBe(before);
  expect(isRunning(s.container!)).toBe(true);
  expect(listed(s).map((x) => x.id)).toEqual([b.id]);
});

// What a user reads before typing RESTORE (and in a --yes run's log): measured by the emptying's
// own container in a restore, by a read-only one in a dry run.
test("the summary says what will be overwritten: each volume's size now and its last change, in a dry run and a restore alike", () => {
  const s = service();
  backupOk(s);
  fillVolume(s.vol, "dd if=/dev/zero of=big bs=1M count=3 2>/dev/null");
  const overwritten = new RegExp(
    `Will be overwritten:\\n  ${s.vol}: 3\\.\\d MiB, last changed \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d \\(`,
  );
  for (const args of [["--dry-run"], ["--yes", "--no-safety-backup"]]) {
    const r = tb(s, ["restore", s.name, ...args]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0, stderr: expect.stringMatching(overwritten) });
    expect(runnersUsing(s.vol)).toBe("");
  }
  expect(exists(s.vol, "big")).toBe(false);
});

test('the summary counts in words a user reads: a volume of one file says "1 file"', () => {
  const s = service({ fill: "echo only > one.txt" });
  backupOk(s);
  const r = tb(s, ["restore", s.name, "--dry-run"]);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`${s.vol} (1 file, `);
  expect(r.stderr).not.toContain("1 files");
});

test("every running container using the volume is stopped and started again; a stopped declared one stays stopped", () => {
  const s = service({ container: false });
  const declared = app([s.vol], { stopped: true, what: "decl" });
  const other = app([s.vol], { what: "other" });
  s.p.writeService(s.name, [{ name: s.vol, container: declared }]);
  backupOk(s);
  fillVolume(s.vol, "echo added > added.txt");
  const [declaredStart, otherStart] = [startedAt(declared), startedAt(other)];

  const r = tb(s, ["restore", s.name, "--yes"]);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`stopping ${other}`);
  expect(exists(s.vol, "added.txt")).toBe(false);
  expect(isRunning(other)).toBe(true);
  expect(startedAt(other)).not.toBe(otherStart);
  expect(isRunning(declared)).toBe(false);
  expect(startedAt(declared)).toBe(declaredStart);
});

test("a backup whose volumes differ from the declared ones is refused: exit 1, nothing changed", () => {
  const s = service();
  backupOk(s);
  const extra = createVolume();
  s.p.writeService(s.name, [{ name: s.vol, container: s.container! }, { name: extra }]);
  fillVolume(s.vol, "echo added > added.txt");
  const current = state(s.vol);
  const r = tb(s, ["restore", s.name, "--yes"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/partial or foreign/);
  expect(state(s.vol)).toEqual(current);
  expect(listed(s).filter((x) => x.kind === "pre-restore")).toEqual([]);
});

describe("--from", () => {
  test("nothing matches -> exit 2; an ambiguous prefix -> exit 2; both change nothing", () => {
    const s = service();
    const a = backupOk(s);
    const b = backupOk(s);
    fillVolume(s.vol, "echo added > added.txt");
    const current = state(s.vol);

    const none = tb(s, ["restore", s.name, "--yes", "--from", `${s.name}_19990101T000000Z_nohost`]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no backup of .* matches/);
    const noDay = tb(s, ["restore", s.name, "--yes", "--from", "1999-01-01"]);
    expect(noDay.code).toBe(2);
    expect(noDay.stderr).toContain("1999-01-01");

    const ambiguous = tb(s, ["restore", s.name, "--yes", "--from", `${s.name}_`]);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(a.id);
    expect(ambiguous.stderr).toContain(b.id);
    for (const r of [none, noDay, ambiguous]) expect(r.stderr).not.toMatch(/^\s+at /m);

    expect(state(s.vol)).toEqual(current);
    expect(listed(s).filter((x) => x.kind === "pre-restore")).toEqual([]);
  });

  test("a unique id prefix and a date YYYY-MM-DD (that day's newest) pick the right backup", () => {
    const s = service({ fill: "echo A > which.txt", container: false });
    const make = (content: string, stamp: string) => {
      fillVolume(s.vol, `echo ${content} > which.txt`);
      return restamp(backupOk(s), stamp);
    };
    const early = make("day1-early", "20200101T100000Z");
    const late = make("day1-late", "20200101T220000Z");
    const day2 = make("day2", "20200102T090000Z");
    fillVolume(s.vol, "echo now > which.txt");
    const env = { TZ: "UTC" };

    const byDay = tb(s, ["restore", s.name, "--yes", "--no-safety-backup", "--from", "2020-01-01"], env);
    expect(byDay.stderr).not.toMatch(/^\s+at /m);
    expect(byDay.code).toBe(0);
    expect(fileInfo(s.vol, "which.txt").content).toBe("day1-late\n");

    const byPrefix = tb(
      s,
      ["restore", s.name, "--yes", "--no-safety-backup", "--from", early.slice(0, -HOST.length - 4)],
      env,
    );
    expect(byPrefix.code).toBe(0);
    expect(fileInfo(s.vol, "which.txt").content).toBe("day1-early\n");

    // The day is a LOCAL date: at UTC+14 all three were made on 2020-01-02, none on 2020-01-01.
    const kiritimati = { TZ: "Pacific/Kiritimati" };
    const plan = tb(s, ["restore", s.name, "--dry-run", "--from", "2020-01-02"], kiritimati);
    expect(plan.code).toBe(0);
    expect(plan.stderr).toContain(`from ${day2}`);
    expect(tb(s, ["restore", s.name, "--dry-run", "--from", "2020-01-01"], kiritimati).code).toBe(2);
    expect(tb(s, ["restore", s.name, "--dry-run", "--from", "2020-01-01"], env).stderr).toContain(`from ${late}`);

    const latest = tb(s, ["restore", s.name, "--yes", "--no-safety-backup"], env);
    expect(latest.code).toBe(0);
    expect(fileInfo(s.vol, "which.txt").content).toBe("day2\n");
  });
});
