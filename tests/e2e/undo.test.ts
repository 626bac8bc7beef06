/**
 * Safety backups (pre-restore) are undo points, not backups of good data: after a restore, the
 * newest backup of the service is the copy of the data that restore replaced, often the broken
 * data. `latest`, a date, the wizard's default, `keep_last`, `status` and `services` go by the
 * regular backups (manual, scheduled); `restore --undo` puts back what the last restore replaced.
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { cleanupCliTemp } from "../helpers/cli.ts";
import { cleanupDocker, fillVolume, isRunning } from "../helpers/docker.ts";
import { readJson } from "../helpers/project.ts";
import { startInPty } from "../helpers/pty.ts";
import {
  backupOk,
  cleanupApps,
  exists,
  FAST,
  fileInfo,
  listed,
  restamp,
  type Svc,
  service,
  state,
  tb,
} from "../helpers/restore-kit.ts";
import { answer, press, waitPrompt } from "../helpers/tui.ts";

setDefaultTimeout(150_000);
afterEach(() => {
  cleanupApps();
  cleanupDocker();
});
afterAll(cleanupCliTemp);

const BROKEN = "echo broken > modify.txt && echo added > added.txt";

/** A regular backup, then broken data, then a restore of that backup: its safety backup holds the broken data. */
function afterOneRestore() {
  const s = service({ what: "undo" });
  const b = backupOk(s);
  fillVolume(s.vol, BROKEN);
  const broken = state(s.vol);
  const r = tb(s, ["restore", s.name, "--from", b.id, "--yes"]);
  if (r.code !== 0) throw new Error(`restore failed (${r.code}): ${r.stderr}`);
  const safety = listed(s).find((l) => l.kind === "pre-restore")!;
  expect(listed(s)[0]!.id).toBe(safety.id); // the newest backup of the service is the safety copy
  return { s, b, broken, safety };
}

/** The backup's good content is back: the data as `FILL` wrote it. */
function goodData(s: Svc) {
  expect(fileInfo(s.vol, "modify.txt").content).toBe("old content\n");
  expect(exists(s.vol, "added.txt")).toBe(false);
}

/** A local date YYYY-MM-DD, as `--from` takes it. */
function localDay(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

test("after a restore, `restore SVC --yes` and `--from <date>` restore the regular backup, not the safety copy of the replaced data", () => {
  const { s, b } = afterOneRestore();
  for (const from of [[], ["--from", localDay(b.created_at)]]) {
    fillVolume(s.vol, BROKEN);
    const r = tb(s, ["restore", s.name, ...from, "--yes"]);
    expect({ from, code: r.code }).toEqual({ from, code: 0 });
    expect(r.stderr).toContain(`restored from ${b.id}`);
    goodData(s);
  }
});

test("`restore SVC --undo --yes` puts back byte-exact the data the last restore replaced, saying it is an undo", () => {
  const { s, b, broken, safety } = afterOneRestore();
  // The safety backup names the restore it belongs to.
  expect(readJson(safety.manifest).restoring).toBe(b.id);
  const r = tb(s, ["restore", s.name, "--undo", "--yes"]);
  expect(r.code).toBe(0);
  expect(r.stdout + r.stderr).toContain(`Undo the restore of ${b.id} on `);
  expect(r.stderr).toContain(`restored from ${safety.id}`);
  expect(state(s.vol)).toEqual(broken);
  expect(isRunning(s.container!)).toBe(true);
  // Same safety as any restore: the data the undo replaced is kept too, naming what it undid.
  const undoOfUndo = listed(s)[0]!;
  expect(undoOfUndo.kind).toBe("pre-restore");
  expect(readJson(undoOfUndo.manifest).restoring).toBe(safety.id);
});

/** Each `restore` run with these arguments and --yes exits 2 with its message, changing nothing. */
function usageErrors(cases: [string[], RegExp][]) {
  const s = service({ what: "undo" });
  const b = backupOk(s);
  fillVolume(s.vol, BROKEN);
  const before = state(s.vol);
  for (const [args, message] of cases) {
    const r = tb(s, ["restore", s.name, ...args, "--yes"]);
    expect({ args, code: r.code }).toEqual({ args, code: 2 });
    expect(r.stderr).toMatch(message);
  }
  expect(state(s.vol)).toEqual(before);
  expect(listed(s).map((l) => l.id)).toEqual([b.id]);
}

test("--undo with --from, and --undo with nothing to undo: exit 2, nothing changed", () => {
  usageErrors([
    [["--undo", "--from", "latest"], /--undo .*--from/],
    [["--undo"], /nothing to undo/],
  ]);
});

test('--from 2026-13-45 (or 2026-02-30): exit 2 "not a date (YYYY-MM-DD)", nothing changed', () => {
  usageErrors([
    [["--from", "2026-13-45"], /not a date \(YYYY-MM-DD\)/],
    [["--from", "2026-02-30"], /not a date \(YYYY-MM-DD\)/],
  ]);
});

test("prune: keep_last counts regular backups only; newer safety backups do not push them out", () => {
  const s = service({ what: "undo" });
  const day = (n: number) =>
    new Date(Date.now() - n * 86_400_000)
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.\d{3}Z$/, "Z");
  const older = restamp(backupOk(s), day(31));
  const newer = restamp(backupOk(s), day(30));
  s.p.writeConfig({ retention_days: 7, keep_last: 2, services: { [s.name]: true } });
  for (const from of [older, newer]) expect(tb(s, ["restore", s.name, "--from", from, "--yes"]).code).toBe(0);
  const safety = listed(s)
    .filter((l) => l.kind === "pre-restore")
    .map((l) => l.id);
  expect(safety).toHaveLength(2);
  const r = tb(s, ["prune", "--json"]);
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout) as { removed: { id: string }[]; kept: { id: string; reason: string }[] };
  expect(out.removed).toEqual([]);
  expect(out.kept.find((k) => k.id === older)?.reason).toBe("one of the newest 2");
  expect(
    listed(s)
      .map((l) => l.id)
      .sort(),
  ).toEqual([older, newer, ...safety].sort());
});

test("status --json and services --json: the newest backup is the regular one, not the newer safety backup", () => {
  const { s, b, safety } = afterOneRestore();
  const status = tb(s, ["status", "--json"]);
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout).services[0].newest.id).toBe(b.id);
  const services = tb(s, ["services", "--json"]);
  expect(services.code).toBe(0);
  const row = (JSON.parse(services.stdout) as { name: string; newest: { id: string } }[]).find(
    (r) => r.name === s.name,
  )!;
  expect(row.newest.id).toBe(b.id);
  expect([status.stdout, services.stdout].join("")).not.toContain(safety.id);
});

test("the wizard highlights the regular backup and lists the undo point apart, labelled with its restore", async () => {
  const { s, b, safety } = afterOneRestore();
  fillVolume(s.vol, "echo v3 > modify.txt");
  const current = state(s.vol);
  const t = startInPty(["restore", s.name, ...s.p.args], { stateHome: s.p.stateHome, env: FAST });
  try {
    await waitPrompt(t, `Restore ${s.name} from which backup?`);
    const lines = t.screen().split("\n");
    const regular = lines.findIndex((l) => l.includes(b.id));
    const group = lines.findIndex((l) => l.includes("undo points"));
    const undo = lines.findIndex((l) => l.includes(`undo: put back the data replaced by the restore of ${b.id} on `));
    expect(lines[regular]).toContain("●"); // the default choice
    expect(group).toBeGreaterThan(regular);
    expect(undo).toBeGreaterThan(group);
    expect(lines[undo]).not.toContain("●");
    await press(t, "Down"); // the group's label is not a choice: Down goes to the undo point
    expect(await t.waitForScreen(new RegExp(`● undo: .*${safety.id}`), 10_000)).toBe(true);
    await press(t, "Enter");
    await waitPrompt(t, `This replaces ALL current data of ${s.name}.`);
    expect(t.screen()).toContain(`Undo the restore of ${b.id} on `);
    expect(t.screen()).toContain(`Restore ${s.name} from ${safety.id}`);
    await answer(t, "no");
    expect(await t.exitCode(30_000)).toBe(1);
  } finally {
    t.close();
  }
  expect(state(s.vol)).toEqual(current);
});

test("the menu's status counts the regular backup as the newest, not a fresh safety backup of replaced data", async () => {
  const s = service({ what: "undo" });
  const stamp = new Date(Date.now() - 3 * 86_400_000)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");
  const old = restamp(backupOk(s), stamp);
  expect(tb(s, ["restore", s.name, "--from", old, "--yes"]).code).toBe(0);
  const t = startInPty(s.p.args, { stateHome: s.p.stateHome, env: FAST });
  try {
    await waitPrompt(t, "What would you like to do?");
    expect(t.screen()).toMatch(new RegExp(`⚠ ${s.name}\\s+newest 3d ago, .*\\(older than 2 days\\)`));
    await press(t, "Up", "Enter"); // wraps to Quit
    expect(await t.exitCode(20_000)).toBe(0);
  } finally {
    t.close();
  }
});
