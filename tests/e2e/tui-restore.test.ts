/**
 * The restore wizard in a real pseudo-terminal: from the menu (service, backup, summary, typed
 * RESTORE) and as `restore SERVICE` without --from. A wrong word or Ctrl-C changes nothing; the
 * typed RESTORE puts the chosen backup's content back.
 *
 * Exit codes: from the menu a refused restore returns to the menu (quit: 0); `restore SERVICE`
 * refused at any prompt (wrong word, Esc, Ctrl-C) exits 1 "restore aborted: nothing was changed".
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { cleanupCliTemp } from "../helpers/cli.ts";
import { cleanupDocker, fillVolume, isRunning, runnersUsing, startedAt } from "../helpers/docker.ts";
import { type Pty, startInPty } from "../helpers/pty.ts";
import { backupOk, exists, FAST, fileInfo, listed, restamp, type Svc, service, state } from "../helpers/restore-kit.ts";
import { answer, count, press, waitMore, waitPrompt } from "../helpers/tui.ts";

setDefaultTimeout(150_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

const MENU = "What would you like to do?";

/** Two backups (the older one holds "old content"), then the data changed again. */
function twoBackups() {
  const s = service({ what: "wiz" });
  const older = backupOk(s);
  const olderId = restamp(older, "20240102T030405Z");
  fillVolume(s.vol, "echo v2 > modify.txt");
  const newer = backupOk(s);
  fillVolume(s.vol, "echo added > added.txt && echo v3 > modify.txt");
  return { s, olderId, newerId: newer.id, current: state(s.vol), started: startedAt(s.container!) };
}

function untouched(x: ReturnType<typeof twoBackups>) {
  expect(state(x.s.vol)).toEqual(x.current);
  expect(isRunning(x.s.container!)).toBe(true);
  expect(startedAt(x.s.container!)).toBe(x.started);
  expect(listed(x.s).filter((b) => b.kind === "pre-restore")).toEqual([]);
}

const pty = (s: Svc, args: string[]) => startInPty([...args, ...s.p.args], { stateHome: s.p.stateHome, env: FAST });

async function closed(t: Pty, fn: (t: Pty) => Promise<void>): Promise<void> {
  try {
    await fn(t);
  } finally {
    t.close();
  }
}

test("from the menu: backups listed newest first with date, host, size and kind; a wrong word changes nothing", async () => {
  const x = twoBackups();
  const t = pty(x.s, []);
  await closed(t, async (t) => {
    await waitPrompt(t, MENU);
    await press(t, "Down", "Enter");
    await waitPrompt(t, "Restore which service?");
    expect(t.screen()).toMatch(new RegExp(`${x.s.name} \\(2 backups, newest \\d+s ago\\)`));
    await press(t, "Enter");
    await waitPrompt(t, `Restore ${x.s.name} from which backup?`);
    const lines = t.screen().split("\n");
    const newer = lines.findIndex((l) => l.includes(x.newerId));
    const older = lines.findIndex((l) =>
      /\d{4}-\d\d-\d\d \d\d:\d\d\s+\d+d ago\s+\S+\s+[\d.]+ (B|KiB)\s+manual/.test(l),
    );
    expect(newer).toBeGreaterThan(0);
    expect(older).toBe(newer + 1);
    await press(t, "Enter");
    await waitPrompt(t, `This replaces ALL current data of ${x.s.name}.`);
    expect(t.screen()).toContain(`Restore ${x.s.name} from ${x.newerId}`);
    expect(t.screen()).toContain(`Containers stopped and started again: ${x.s.container}`);
    expect(t.screen()).toMatch(
      new RegExp(`${x.s.vol}: [\\d.]+ (B|KiB), last changed \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d`),
    );
    const menus = count(t, MENU);
    await answer(t, "restore");
    await waitMore(t, MENU, menus);
    expect(t.screen()).toContain("restore aborted: nothing was changed");
    untouched(x);
    expect(runnersUsing(x.s.vol)).toBe(""); // the emptying armed with the summary ended untouched
    await waitPrompt(t, MENU);
    await press(t, "Up", "Enter"); // wraps to Quit
    expect(await t.exitCode(20_000)).toBe(0);
  });
  untouched(x);
});

test("restore SERVICE without --from: Ctrl-C at the picker aborts (exit 1); RESTORE on the older backup brings its content back", async () => {
  const x = twoBackups();
  const first = pty(x.s, ["restore", x.s.name]);
  await closed(first, async (t) => {
    await waitPrompt(t, `Restore ${x.s.name} from which backup?`);
    await press(t, "C-c");
    expect(await t.exitCode(20_000)).toBe(1);
    expect(t.screen()).toContain("restore aborted: nothing was changed");
  });
  untouched(x);

  const t = pty(x.s, ["restore", x.s.name]);
  await closed(t, async (t) => {
    await waitPrompt(t, `Restore ${x.s.name} from which backup?`);
    await press(t, "Down", "Enter");
    await waitPrompt(t, `This replaces ALL current data of ${x.s.name}.`);
    expect(t.screen()).toContain(`Restore ${x.s.name} from ${x.olderId}`);
    await answer(t, "RESTORE");
    expect(await t.exitCode(90_000)).toBe(0);
    expect(t.screen()).toContain(`${x.s.name} restored from ${x.olderId}`);
  });
  expect(fileInfo(x.s.vol, "modify.txt").content).toBe("old content\n");
  expect(exists(x.s.vol, "added.txt")).toBe(false);
  expect(isRunning(x.s.container!)).toBe(true);
  const safety = listed(x.s).filter((b) => b.kind === "pre-restore");
  expect(safety).toHaveLength(1);
});

/** The summary's lines as shown, from its first line to its safety line; ages (and so the box's width) vary by the second. */
function summaryLines(t: Pty, name: string): string[] {
  const lines = t.screen().split("\n");
  const from = lines.findIndex((l) => l.includes(`Restore ${name} from`));
  const to = lines.findIndex((l, i) => i > from && /safety backup|backed up first/.test(l));
  expect({ from: from >= 0, to: to > from }).toEqual({ from: true, to: true });
  return lines.slice(from, to + 1).map((l) => l.replace(/\d+[smhd] ago/g, "N ago").replace(/\s+│?\s*$/, ""));
}

test("the summary looks the same with --from and in the picker: the same box", async () => {
  const s = service({ what: "look" });
  const b = backupOk(s);
  const shown: string[][] = [];
  for (const args of [["--from", b.id], []]) {
    await closed(pty(s, ["restore", s.name, ...args]), async (t) => {
      await waitPrompt(t, `This replaces ALL current data of ${s.name}.`);
      shown.push(summaryLines(t, s.name));
      await answer(t, "no");
      expect(await t.exitCode(20_000)).toBe(1);
    });
  }
  expect(shown[0]![0]).toMatch(/^│ +Restore /);
  expect(shown[0]).toEqual(shown[1]!);
});
