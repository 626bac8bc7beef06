/**
 * SIGKILL (no cleanup possible) while a service's own restore script runs. Nothing of the killed
 * run can say the data is half restored, so that must be on record before the script starts: the
 * next backup refuses (the partial data must not become a good backup that retention counts),
 * names the ways out, and a restore that completes clears it.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, stackLines, waitFor } from "../helpers/cli.ts";
import { filesIn } from "../helpers/project.ts";
import { listed, tb, tbStart } from "../helpers/restore-kit.ts";
import { BACKUP_OK, data, scripted } from "../helpers/scripted.ts";

setDefaultTimeout(120_000);
afterAll(cleanupCliTemp);

/**
 * With `block` present it half restores, then waits (a leader of its own group, which the kill
 * of tools-backup leaves running). With `fail-target` present it fails on payload-1 only, so
 * running it again on the safety backup succeeds.
 */
const RESTORE = `if [ -e block ]; then echo half-restored > data.txt; echo $$ > script.pid; exec sleep 300; fi
if [ -e fail-target ] && grep -q payload-1 "$BACKUP_FILE"; then echo half-again > data.txt; exit 3; fi
cat "$BACKUP_FILE" > data.txt`;

const flag = (s: { dir: string }, name: string, on: boolean) =>
  on ? fs.writeFileSync(path.join(s.dir, name), "") : fs.rmSync(path.join(s.dir, name), { force: true });

/** A backup of payload-1, then payload-2 as the current data, then a restore killed mid-script. */
async function killedRestore() {
  const s = scripted({ "backup.sh": BACKUP_OK, "restore.sh": RESTORE });
  expect(tb(s, ["backup", s.name]).code).toBe(0);
  const [target] = listed(s);
  fs.writeFileSync(path.join(s.dir, "data.txt"), "payload-2\n");
  flag(s, "block", true);
  const run = tbStart(s, ["restore", s.name, "--yes"]);
  const pidFile = path.join(s.dir, "script.pid");
  try {
    expect(await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, "utf8").endsWith("\n"), 30_000)).toBe(
      true,
    );
    const exited = new Promise((resolve) => run.child.once("exit", (_code, signal) => resolve(signal)));
    run.child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
  } finally {
    run.child.kill("SIGKILL"); // a no-op unless a check above failed first
    // The script holds the killed run's stderr open: its output ends only once it is gone too.
    if (fs.existsSync(pidFile)) process.kill(-Number(fs.readFileSync(pidFile, "utf8")), "SIGKILL");
  }
  await run.done;
  flag(s, "block", false);
  expect(data(s)).toBe("half-restored\n");
  const safety = listed(s).find((b) => b.kind === "pre-restore");
  expect(safety).toBeDefined();
  return { s, target: target!, safety: safety!, pid: run.child.pid! };
}

/** The next backup (and the nightly run) refuses, keeps nothing, and names the ways out. */
function expectRefused(k: Awaited<ReturnType<typeof killedRestore>>) {
  const { s } = k;
  const before = filesIn(s.p.serviceFolder(s.name));
  for (const args of [
    ["backup", s.name],
    ["backup", "--cron"],
  ]) {
    const r = tb(s, args);
    expect(stackLines(r.stderr)).toEqual([]);
    expect(r.stderr).toMatch(
      new RegExp(
        `the restore of ${s.name} started \\S+ did not finish \\(pid ${k.pid} was killed while it ran \\S*restore\\.sh\\).* no backup is taken until that is resolved`,
      ),
    );
    expect(r.stderr).toContain(
      `go back to the data from before it: tools-backup restore ${s.name} --from ${k.safety.id}`,
    );
    expect(r.stderr).toContain(`finish it: tools-backup restore ${s.name} --from ${k.target.id}`);
    expect(r.code).toBe(1);
  }
  expect(filesIn(s.p.serviceFolder(s.name))).toEqual(before);
}

test("restore.sh SIGKILLed while it runs: the next backup refuses with exit 1 and keeps nothing; a restore that completes clears it", async () => {
  const k = await killedRestore();
  expectRefused(k);
  const again = tb(k.s, ["restore", k.s.name, "--yes", "--from", k.target.id]);
  expect(stackLines(again.stderr)).toEqual([]);
  expect(again.code).toBe(0);
  expect(data(k.s)).toBe("payload-1\n");
  expect(tb(k.s, ["backup", k.s.name]).code).toBe(0);
});

test("after that kill, a restore that fails and is rolled back leaves the data half restored: still refused, with the first ways out", async () => {
  const k = await killedRestore();
  flag(k.s, "fail-target", true);
  const failed = tb(k.s, ["restore", k.s.name, "--yes", "--from", k.target.id]);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toMatch(/exited with code 3/);
  expect(failed.stderr).toMatch(/rolled back/);
  expect(data(k.s)).toBe("half-restored\n"); // as the killed run left it, which the new safety backup kept
  expectRefused(k);
  // The advice works: the data from before the killed restore comes back, and backups resume.
  expect(tb(k.s, ["restore", k.s.name, "--yes", "--from", k.safety.id]).code).toBe(0);
  expect(data(k.s)).toBe("payload-2\n");
  expect(tb(k.s, ["backup", k.s.name]).code).toBe(0);
});
