/**
 * The live progress line on a real terminal, in the command and in the screens: a percent (an
 * estimate, marked "~", for a backup: from the previous backup's sizes; exact for a restore's
 * verification and replacement, whose archive size is known), and never a message joined to
 * it: whatever is printed next starts on a clean line.
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { cleanupCliTemp } from "../helpers/cli.ts";
import { cleanupDocker } from "../helpers/docker.ts";
import { type Pty, startInPty } from "../helpers/pty.ts";
import { backupOk, cleanupApps, FAST, listed, type Svc, service } from "../helpers/restore-kit.ts";
import { answer, count, press, waitPrompt } from "../helpers/tui.ts";

setDefaultTimeout(300_000);
afterEach(() => {
  cleanupApps();
  cleanupDocker();
});
afterAll(cleanupCliTemp);

/** Big enough (and incompressible) for the progress line to be drawn many times. */
const BIG = "head -c 150000000 /dev/urandom > big && echo old content > modify.txt";
const MENU = "What would you like to do?";
const RATE = /\d (B|KiB|MiB|GiB)\/s/;
/** The start of a progress line: what is left of it when a narrow terminal wrapped it. */
const PROGRESS = /(read|verifying) [\d.]+ (B|KiB|MiB|GiB)( of|,)/;

/** A service whose data is big, with one backup already (the estimate's source). */
function bigService(): Svc {
  const s = service({ fill: BIG, what: "prog" });
  backupOk(s);
  return s;
}

// Without NO_COLOR (which the other tests set): the command draws its live line only then.
const pty = (s: Svc, args: string[], columns?: number) =>
  startInPty([...args, ...s.p.args], { stateHome: s.p.stateHome, env: { ...FAST, NO_COLOR: undefined } }, columns);

/** Progress lines the screen shows until `done` says so, sampled. */
async function watch(t: Pty, done: () => Promise<boolean>, timeoutMs = 180_000): Promise<string[]> {
  const seen = new Set<string>();
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && !(await done())) {
    for (const line of t.screen().split("\n")) if (RATE.test(line) || PROGRESS.test(line)) seen.add(line.trim());
    await Bun.sleep(20);
  }
  return [...seen];
}

const ended = (t: Pty) => async () => (await t.exitCode(0)) !== undefined;
const menuAgain = (t: Pty, before: number) => async () => count(t, MENU) > before;

/** Lines where something was written after the progress text (which ends in its rate or its time left). */
function joined(screen: string): string[] {
  return screen.split("\n").filter((l) => (RATE.test(l) || PROGRESS.test(l)) && !/(B\/s|left)\s*$/.test(l));
}

async function closed(t: Pty, fn: (t: Pty) => Promise<void>): Promise<void> {
  try {
    await fn(t);
  } finally {
    t.close();
  }
}

test("command: backup shows an estimated percent, restore a percent while verifying and while writing; nothing joins the line", async () => {
  const s = bigService();
  await closed(pty(s, ["backup", s.name]), async (t) => {
    const seen = await watch(t, ended(t));
    expect(await t.exitCode(0)).toBe(0);
    expect(seen.filter((l) => new RegExp(`${s.name}: read .* of ~.*, ~\\d+%`).test(l))).not.toEqual([]);
    expect(joined(t.screen())).toEqual([]);
    expect(t.screen()).toMatch(new RegExp(`✔ ${s.name}: `));
  });
  const newest = listed(s)[0]!;
  await closed(pty(s, ["restore", s.name, "--from", newest.id, "--yes", "--no-safety-backup"]), async (t) => {
    const seen = await watch(t, ended(t));
    expect(await t.exitCode(0)).toBe(0);
    expect(seen.filter((l) => new RegExp(`${s.name}: verifying .* of .*, \\d+%`).test(l))).not.toEqual([]);
    expect(seen.filter((l) => new RegExp(`${s.name}: read .* of .*, \\d+%`).test(l))).not.toEqual([]);
    expect(joined(t.screen())).toEqual([]);
    expect(t.screen()).toContain(`restored from ${newest.id}`);
  });
});

test("screens: a backup and a restore from the menu show a percent; nothing joins the line", async () => {
  const s = bigService();
  await closed(pty(s, []), async (t) => {
    await waitPrompt(t, MENU);
    let menus = count(t, MENU);
    await press(t, "Enter");
    await waitPrompt(t, "Back up which service?");
    await press(t, "Enter");
    const backup = await watch(t, menuAgain(t, menus));
    expect(backup.filter((l) => /~\d+%/.test(l))).not.toEqual([]);
    expect(t.screen()).toMatch(new RegExp(`${s.name}: .*\\.tar\\.zst`));

    await waitPrompt(t, MENU);
    menus = count(t, MENU);
    await press(t, "Down", "Enter");
    await waitPrompt(t, "Restore which service?");
    await press(t, "Enter");
    await waitPrompt(t, `Restore ${s.name} from which backup?`);
    await press(t, "Enter");
    await waitPrompt(t, `This replaces ALL current data of ${s.name}.`);
    await answer(t, "RESTORE");
    const restore = await watch(t, menuAgain(t, menus));
    expect(restore.filter((l) => /read .*, \d+%/.test(l))).not.toEqual([]);
    expect(t.screen()).toContain(`${s.name} restored from`);
    expect(joined(t.screen())).toEqual([]);
    await waitPrompt(t, MENU);
    await press(t, "Up", "Enter");
    expect(await t.exitCode(20_000)).toBe(0);
  });
});

test("a terminal narrower than the progress line: the line is cut to its width, so no wrapped part is left behind", async () => {
  const s = bigService();
  await closed(pty(s, ["restore", s.name, "--yes", "--no-safety-backup"], 50), async (t) => {
    const seen = await watch(t, ended(t));
    expect(await t.exitCode(0)).toBe(0);
    expect(seen).not.toEqual([]);
    expect(seen.filter((l) => l.length >= 50)).toEqual([]);
    expect(joined(t.screen())).toEqual([]);
    expect(t.screen()).toContain(`${s.name} restored from`);
  });
});
