/**
 * One backup or restore of a service, and of each volume it declares, at a time (the locks), and
 * a run killed outright while its containers were stopped (the journal): the next run starts them
 * again and says so.
 */
import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, waitFor } from "../helpers/cli.ts";
import {
  cleanupDocker,
  createVolume,
  dockerOk,
  fillVolume,
  isRunning,
  leftoverHelpers,
  runContainer,
  uniqueName,
} from "../helpers/docker.ts";
import { makeProject, readJson } from "../helpers/project.ts";
import {
  backupOk,
  cleanupApps,
  deadPid,
  FILL,
  journalFile,
  listed,
  lockFile,
  type Svc,
  service,
  state,
  svcName,
  tb,
  tbStart,
} from "../helpers/restore-kit.ts";

setDefaultTimeout(120_000);
afterEach(() => {
  cleanupApps();
  cleanupDocker();
});
afterAll(cleanupCliTemp);

const BIG = "dd if=/dev/urandom of=big.bin bs=1M count=300 2>/dev/null && echo small > small.txt";

describe("lock", () => {
  test("a second backup or restore while a backup runs: exit 1 naming the pid; --wait waits, then succeeds", async () => {
    const s = service({ fill: BIG });
    backupOk(s); // so that restore has something to pick
    const first = tbStart(s, ["backup", s.name]);
    const pid = first.child.pid!;
    const held = () => {
      try {
        return readJson(lockFile(s)).pid === pid; // created first, then written: may be empty for a moment
      } catch {
        return false;
      }
    };
    expect(await waitFor(held, 60_000, 5)).toBe(true);
    const lock = readJson(lockFile(s));
    expect(lock.command).toContain("backup");
    expect(Number.isNaN(Date.parse(lock.since))).toBe(false);

    const second = tb(s, ["backup", s.name]);
    const restore = tb(s, ["restore", s.name, "--yes"]);
    const waiter = tbStart(s, ["backup", s.name, "--wait"]);
    expect(await waitFor(() => /waiting for pid/.test(waiter.stderr()), 30_000, 5)).toBe(true);
    const stillRunning = first.child.exitCode === null;
    const [r1, r3] = await Promise.all([first.done, waiter.done]);

    expect(stillRunning).toBe(true); // otherwise the refusals below prove nothing
    for (const r of [second, restore]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`pid ${pid}`);
      expect(r.stderr).toMatch(/--wait/);
      expect(r.stderr).toContain(`${s.name} --config`); // the holder's command line
      expect(r.stderr).toContain(lock.since);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    expect(r1.code).toBe(0);
    expect(r3.code).toBe(0);
    expect(r3.stderr).toContain(`waiting for pid ${pid}`);
    expect(listed(s).map((b) => b.kind)).toEqual(["manual", "manual", "manual"]);
    expect(fs.existsSync(lockFile(s))).toBe(false);
    // The holder's command should name the binary the user ran, not Bun's virtual /$bunfs path.
    expect(lock.command).not.toContain("$bunfs");
  });

  test("two services sharing a volume: while one is restored, the other's backup is refused naming the pid; --wait waits, then backs up all the data", async () => {
    const shared = createVolume();
    fillVolume(shared, BIG);
    const own = createVolume();
    fillVolume(own, FILL);
    const [a, b] = [svcName("one"), svcName("two")];
    const p = makeProject({ services: { [a]: [{ name: shared }], [b]: [{ name: own }, { name: shared }] } });
    const one: Svc = { name: a, vol: shared, p };
    const two: Svc = { name: b, vol: own, p };
    const archived = readJson(backupOk(one).manifest).volumes;

    // The restore empties the shared volume before it writes it again: a backup then would save half of it.
    const first = tbStart(one, ["restore", a, "--yes", "--no-safety-backup"]);
    const pid = first.child.pid!;
    expect(await waitFor(() => /replacing the content/.test(first.stderr()), 60_000, 5)).toBe(true);
    const since = readJson(lockFile(one)).since;

    const second = tb(two, ["backup", b]);
    const waiter = tbStart(two, ["backup", b, "--wait"]);
    expect(await waitFor(() => /waiting for pid/.test(waiter.stderr()), 30_000, 5)).toBe(true);
    const stillRunning = first.child.exitCode === null;
    const [r1, r3] = await Promise.all([first.done, waiter.done]);

    expect(stillRunning).toBe(true); // otherwise the refusal below proves nothing
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`pid ${pid}`);
    expect(second.stderr).toContain(`volume ${shared}`);
    expect(second.stderr).toContain(`restore ${a}`); // the holder's command line
    expect(second.stderr).toContain(since);
    expect(second.stderr).toMatch(/--wait/);
    expect(second.stderr).not.toMatch(/^\s+at /m);
    expect({ code: r1.code, stderr: r1.stderr }).toMatchObject({ code: 0 });
    expect({ code: r3.code, stderr: r3.stderr }).toMatchObject({ code: 0 });
    expect(r3.stderr).toContain(`waiting for pid ${pid}`);
    const [made, ...rest] = listed(two);
    expect(rest).toEqual([]);
    expect(readJson(made!.manifest).volumes.find((v: { name: string }) => v.name === shared)).toEqual(archived[0]);
    const locks = path.join(p.stateHome, "tools-backup", "locks");
    expect(fs.readdirSync(locks, { recursive: true }).filter((f) => String(f).endsWith(".lock"))).toEqual([]);
    expect(fs.readdirSync(path.join(locks, "volumes"))).toEqual([]); // the volume locks were there
  });

  for (const [label, content] of [
    [
      "a dead pid",
      () => JSON.stringify({ pid: deadPid(), command: "tools-backup backup x", since: "2020-01-01T00:00:00.000Z" }),
    ],
    ["garbage", () => "not json {"],
  ] as const) {
    test(`stale lock files (${label}) of the service and its volume are taken over`, () => {
      const s = service();
      const volumeLock = path.join(path.dirname(lockFile(s)), "volumes", `${s.vol}.lock`);
      fs.mkdirSync(path.dirname(volumeLock), { recursive: true });
      fs.writeFileSync(lockFile(s), content());
      fs.writeFileSync(volumeLock, content());
      const r = tb(s, ["backup", s.name]);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.code).toBe(0);
      expect(listed(s)).toHaveLength(1);
      expect(fs.existsSync(lockFile(s))).toBe(false);
      expect(fs.existsSync(volumeLock)).toBe(false);
    });
  }
});

test("two projects with a service of the same name back up at once: neither removes the other's helper", async () => {
  const name = svcName("same");
  const [volA, volB] = [createVolume(), createVolume()];
  fillVolume(volA, FILL);
  fillVolume(volB, "echo b > b.txt");
  // Ignores SIGTERM: its stop takes the whole timeout, while the first run's helper already exists.
  const slow = runContainer(uniqueName("slowstop"), [volA], { init: false });
  const a: Svc = {
    name,
    vol: volA,
    container: slow,
    p: makeProject({ services: { [name]: [{ name: volA, container: slow }] } }),
  };
  // Its own backup_dir and state folder: another project, or another user on the same engine.
  const b: Svc = { name, vol: volB, p: makeProject({ services: { [name]: [{ name: volB }] } }) };
  const first = tbStart(a, ["backup", name], { TOOLS_BACKUP_STOP_TIMEOUT: "4" });
  expect(await waitFor(() => leftoverHelpers(name).length > 0, 60_000, 5)).toBe(true);
  const second = tb(b, ["backup", name]);
  const overlapped = first.child.exitCode === null;
  const r1 = await first.done;

  expect(overlapped).toBe(true); // otherwise the second run could not have touched the first one's helper
  expect({ code: second.code, stderr: second.stderr }).toMatchObject({ code: 0 });
  expect({ code: r1.code, stderr: r1.stderr }).toMatchObject({ code: 0 });
  expect(listed(a)).toHaveLength(1);
  expect(listed(b)).toHaveLength(1);
  expect(isRunning(slow)).toBe(true);
  expect(leftoverHelpers(name)).toEqual([]);
});

describe("journal", () => {
  test("a backup SIGKILLed while its container is stopped: the next backup starts it, says so, removes the helper", async () => {
    const s = service({ fill: BIG });
    const c = s.container!;
    const child = tbStart(s, ["backup", s.name]);
    expect(await waitFor(() => !isRunning(c), 60_000, 20)).toBe(true);
    child.child.kill("SIGKILL");
    const killed = await child.done;
    expect(killed.signal).toBe("SIGKILL");

    expect(isRunning(c)).toBe(false);
    const journal = readJson(journalFile(s));
    expect(journal).toMatchObject({ service: s.name, pid: child.child.pid, operation: "backup", stopped: [c] });
    expect(Number.isNaN(Date.parse(journal.started_at))).toBe(false);
    expect(leftoverHelpers(s.name).length).toBeGreaterThan(0);

    const next = tb(s, ["backup", s.name]);
    expect(next.stderr).not.toMatch(/^\s+at /m);
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/was killed while containers were stopped; recovering/);
    expect(next.stderr).toContain(`pid ${child.child.pid}`);
    expect(next.stderr).toContain(`started ${c}`);
    expect(isRunning(c)).toBe(true);
    expect(leftoverHelpers(s.name)).toEqual([]);
    expect(fs.existsSync(journalFile(s))).toBe(false);
    expect(fs.existsSync(lockFile(s))).toBe(false);
    expect(listed(s)).toHaveLength(1);
  });

  test("a restore SIGKILLed mid-replacement: the next run starts the container and names the safety backup to go back to", async () => {
    const s = service({ fill: BIG });
    const c = s.container!;
    backupOk(s);
    dockerOk(["exec", c, "sh", "-c", "echo added > /data/added.txt"]);
    const before = state(s.vol);
    const child = tbStart(s, ["restore", s.name, "--yes"]);
    expect(await waitFor(() => /replacing the content/.test(child.stderr()), 90_000, 5)).toBe(true);
    await Bun.sleep(500);
    child.child.kill("SIGKILL");
    await child.done;

    expect(isRunning(c)).toBe(false);
    const safety = listed(s).find((b) => b.kind === "pre-restore")!;
    expect(safety).toBeDefined();
    expect(readJson(journalFile(s))).toMatchObject({ operation: "restore", stopped: [c], safety_backup: safety.id });

    const next = tb(s, ["restore", s.name, "--yes", "--no-safety-backup", "--from", safety.id]);
    expect(next.stderr).not.toMatch(/^\s+at /m);
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/recovering/);
    expect(next.stderr).toContain(`tools-backup restore ${s.name} --from ${safety.id}`);
    expect(next.stderr).toContain(`started ${c}`);
    expect(isRunning(c)).toBe(true);
    expect(state(s.vol)).toEqual(before);
    expect(leftoverHelpers(s.name)).toEqual([]);
    expect(fs.existsSync(journalFile(s))).toBe(false);
  });
});
