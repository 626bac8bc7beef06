/**
 * SIGKILL (no cleanup possible) in the middle of a backup and of a restore. The NEXT run must
 * recover: start what was left stopped, take over the stale lock, drop this host's leftover
 * temporary files once they are a day old (never another host's, never a fresh one), and after
 * a killed restore say that the volume may be partial and give the exact command that puts the
 * safety backup back. (lock-journal.test.ts covers a killed restore followed by a restore.)
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { sha256, snapshot } from "../helpers/archive.ts";
import { cleanupCliTemp, run, start, waitFor } from "../helpers/cli.ts";
import {
  cleanupDocker,
  createVolume,
  docker,
  dockerOk,
  fillVolume,
  leftoverHelpers,
  runContainer,
  runnersUsing,
  stopReceivedSince,
  uniqueName,
} from "../helpers/docker.ts";
import { dockerStandIn } from "../helpers/docker-stand-in.ts";
import {
  containerInfo,
  expectClean,
  expectConsistent,
  folderState,
  listJson,
  orphans,
  prng,
  randomFill,
  svcName,
} from "../helpers/faults.ts";
import { makeProject, readJson } from "../helpers/project.ts";

setDefaultTimeout(300_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

const HOST = "hosta";
const ENV = { TOOLS_BACKUP_STOP_TIMEOUT: "1", TOOLS_BACKUP_HOST: HOST };
const DAY = 86_400_000;

function setup(mib: number) {
  const svc = svcName("kill");
  const vol = createVolume();
  fillVolume(vol, randomFill(mib));
  const app = runContainer(uniqueName("app"), [vol]);
  const p = makeProject({ services: { [svc]: [{ name: vol, container: app }] } });
  const tb = (args: string[]) => run([...args, ...p.args], { stateHome: p.stateHome, env: ENV });
  const tbStart = (args: string[]) => start([...args, ...p.args], { stateHome: p.stateHome, env: ENV });
  const state = path.join(p.stateHome, "tools-backup");
  return {
    svc,
    vol,
    app,
    p,
    tb,
    tbStart,
    folder: p.serviceFolder(svc),
    lock: path.join(state, "locks", `${svc}.lock`),
    journal: path.join(state, "journal", `${svc}.json`),
  };
}

test("SIGKILL while streaming: the next backup starts the container, takes the lock over, removes only this host's day-old temp files", async () => {
  const s = setup(150);
  const child = s.tbStart(["backup", s.svc]);
  expect(await waitFor(() => folderState(s.folder).temps.length > 0, 90_000, 5)).toBe(true);
  await Bun.sleep(300);
  child.child.kill("SIGKILL");
  expect((await child.done).signal).toBe("SIGKILL");

  // What the killed run left: container down, its lock and journal, its half-written temp file.
  expect(containerInfo(s.app).running).toBe(false);
  expect(readJson(s.lock).pid).toBe(child.child.pid);
  expect(readJson(s.journal)).toMatchObject({ pid: child.child.pid, stopped: [s.app] });
  const [killedTemp] = folderState(s.folder).temps;
  expect(killedTemp).toMatch(new RegExp(`^\\.tmp-${s.svc}_\\d{8}T\\d{6}Z_${HOST}\\.tar\\.zst\\.${child.child.pid}$`));
  expect(listJson(s.p, s.svc, ENV)).toEqual([]); // never listed

  // Age the killed run's file past a day; add other leftovers that must survive.
  const twoDaysAgo = new Date(Date.now() - 2 * DAY);
  fs.utimesSync(path.join(s.folder, killedTemp!), twoDaysAgo, twoDaysAgo);
  const keep = {
    otherHostFresh: `.tmp-${s.svc}_20260101T000000Z_hostb.tar.zst.4242`,
    otherHostOld: `.tmp-${s.svc}_20260101T000000Z_hostb.json.4243`,
    mineFresh: `.tmp-${s.svc}_20260101T000000Z_${HOST}.json.4244`,
    notOurs: ".tmp-some-other-program.part",
  };
  for (const [label, name] of Object.entries(keep)) {
    fs.writeFileSync(path.join(s.folder, name), "partial\n");
    if (label === "otherHostOld" || label === "notOurs")
      fs.utimesSync(path.join(s.folder, name), twoDaysAgo, twoDaysAgo);
  }

  const next = s.tb(["backup", s.svc]);
  expectClean(next, 0, /was killed while containers were stopped; recovering/, new RegExp(`started ${s.app}`));
  expect(containerInfo(s.app).running).toBe(true);
  expect(folderState(s.folder).temps).toEqual(Object.values(keep).sort());
  expect(fs.existsSync(s.lock)).toBe(false);
  expect(fs.existsSync(s.journal)).toBe(false);
  expect(leftoverHelpers(s.svc)).toEqual([]);
  for (const name of Object.values(keep)) fs.rmSync(path.join(s.folder, name));
  expect(expectConsistent(s.p, s.svc, ENV)).toHaveLength(1);
});

test("SIGKILL at 12 pseudo-random moments of a backup (seed 0x4b11): every next run recovers; older backups intact", async () => {
  const svc = svcName("kill8");
  const vol = createVolume();
  fillVolume(vol, randomFill(24));
  const app = runContainer(uniqueName("stubborn"), [vol], { init: false }); // a 1 s `docker stop` to land in
  const p = makeProject({ services: { [svc]: [{ name: vol, container: app }] } });
  const tb = (args: string[]) => run([...args, ...p.args], { stateHome: p.stateHome, env: ENV });
  const t0 = performance.now();
  expectClean(tb(["backup", svc]), 0);
  expectClean(tb(["backup", svc]), 0);
  const total = (performance.now() - t0) / 2;
  const older = listJson(p, svc, ENV).map((b) => [b.id, sha256(b.file)]);
  const rnd = prng(0x4b11);
  const RUNS = 12;
  const outcomes: Record<string, unknown>[] = [];
  for (let i = 0; i < RUNS; i++) {
    const delay = Math.round(((i + rnd()) / RUNS) * total);
    const child = start(["backup", svc, ...p.args], { stateHome: p.stateHome, env: ENV });
    await Bun.sleep(delay);
    const said = child.stderr();
    const phase = /: starting /.test(said)
      ? "tail/manifest"
      : /archiving/.test(said)
        ? "streaming"
        : /stopping/.test(said)
          ? "docker stop"
          : "before stop";
    child.child.kill("SIGKILL");
    await child.done;
    // The killed run's temp file is fresh, so kept a day (another run might still write it): age it.
    const aged = new Date(Date.now() - 2 * DAY);
    for (const t of folderState(p.serviceFolder(svc)).temps)
      fs.utimesSync(path.join(p.serviceFolder(svc), t), aged, aged);
    const next = tb(["backup", svc]);
    const listed = listJson(p, svc, ENV);
    outcomes.push({
      run: i,
      delay,
      phase,
      next: next.code,
      running: containerInfo(app).running,
      orphans: orphans(p.serviceFolder(svc)),
      temps: folderState(p.serviceFolder(svc)).temps,
      olderIntact: older.every(([id, sha]) => listed.some((b) => b.id === id && sha256(b.file) === sha)),
      verify: tb(["verify", svc]).code,
    });
    // Back to a running app and the two older backups only: one run's damage must not decide the next one's.
    if (!containerInfo(app).running) dockerOk(["start", app]);
    const keep = new Set(older.map(([id]) => id));
    for (const n of fs.readdirSync(p.serviceFolder(svc)))
      if (![...keep].some((id) => n.startsWith(`${id}.`))) fs.rmSync(path.join(p.serviceFolder(svc), n));
  }
  console.log(`SIGKILL outcomes:\n${outcomes.map((o) => JSON.stringify(o)).join("\n")}`);
  const good = (o: Record<string, unknown>) => ({
    ...o,
    next: 0,
    running: true,
    orphans: [],
    temps: [],
    olderIntact: true,
    verify: 0,
  });
  expect(outcomes).toEqual(outcomes.map(good));
});

test("SIGKILL between the archive's rename and its manifest's: the next run puts the manifest in place, so the backup is listed and verifies", async () => {
  const s = setup(24);
  expectClean(s.tb(["backup", s.svc]), 0);
  const [b] = listJson(s.p, s.svc, ENV);
  // The exact state such a kill leaves (the window is microseconds wide, so it is built by hand):
  // the final archive, its manifest still under the dead run's temporary name, two days old.
  const deadPid = Bun.spawnSync(["true"]).pid;
  const tmpManifest = `.tmp-${b!.id}.json.${deadPid}`;
  fs.renameSync(path.join(s.folder, `${b!.id}.json`), path.join(s.folder, tmpManifest));
  const aged = new Date(Date.now() - 2 * DAY);
  fs.utimesSync(path.join(s.folder, tmpManifest), aged, aged);
  // Not touched: a run still writing (its pid is alive) and another host's leftover.
  const alive = `.tmp-${s.svc}_20260101T000000Z_${HOST}.json.${process.pid}`;
  const otherHost = `.tmp-${b!.id.replace(HOST, "hostb")}.json.${deadPid}`;
  const manifestText = fs.readFileSync(path.join(s.folder, tmpManifest), "utf8");
  fs.writeFileSync(path.join(s.folder, alive), manifestText.replaceAll(b!.id, `${s.svc}_20260101T000000Z_${HOST}`));
  fs.writeFileSync(path.join(s.folder, otherHost), manifestText.replaceAll(b!.id, b!.id.replace(HOST, "hostb")));
  expect(listJson(s.p, s.svc, ENV)).toEqual([]);

  const dry = s.tb(["prune", "--dry-run", "--json"]);
  expectClean(dry, 0);
  expect(JSON.parse(dry.stdout)).toMatchObject({ completed: [b!.id], temp_files: [] });
  expect(fs.existsSync(path.join(s.folder, tmpManifest))).toBe(true); // a dry run changes nothing

  const next = s.tb(["backup", s.svc]);
  expectClean(
    next,
    0,
    new RegExp(`backup ${b!.id} was complete when its run was killed; its manifest is now in place`),
  );
  const listed = listJson(s.p, s.svc, ENV);
  expect(listed.map((x) => x.id)).toContain(b!.id);
  expect(listed).toHaveLength(2);
  expectClean(s.tb(["verify", s.svc]), 0);
  expect(folderState(s.folder).temps).toEqual([alive, otherHost].sort());
  expect(orphans(s.folder)).toEqual([]);
});

test("SIGKILL while `docker stop` waits, and the next run's docker is slow: the container must not be left stopped", async () => {
  const s = setup(1);
  docker(["rm", "-f", s.app]);
  runContainer(s.app, [s.vol], { init: false }); // ignores SIGTERM: its stop takes the whole timeout
  const since = Date.now();
  const env = { TOOLS_BACKUP_STOP_TIMEOUT: "3" };
  const child = start(["backup", s.svc, ...s.p.args], { stateHome: s.p.stateHome, env: { ...ENV, ...env } });
  expect(await waitFor(() => stopReceivedSince(s.app, since), 30_000, 50)).toBe(true);
  child.child.kill("SIGKILL"); // its `docker stop` goes on without it
  await child.done;
  // The next run's first inspect (recovery) answers at once; the later ones take 4 s, as on a loaded engine.
  const slow = dockerStandIn(
    (dir) => `case "$*" in *'container inspect'*) mkdir '${dir}/first' 2>/dev/null || sleep 4;; esac`,
    "tbtest-slowdocker-",
  );
  const next = run(["backup", s.svc, ...s.p.args], {
    stateHome: s.p.stateHome,
    env: { ...ENV, ...env, TOOLS_BACKUP_DOCKER: slow.bin },
  });
  expectClean(next, 0);
  expect({ running: containerInfo(s.app).running, stderr: next.stderr }).toMatchObject({ running: true });
});

test("restore SIGKILLed while `docker stop` waits: the emptying armed for after the stop ends by itself, the data untouched", async () => {
  const s = setup(1);
  expect(s.tb(["backup", s.svc]).code).toBe(0);
  docker(["rm", "-f", s.app]);
  runContainer(s.app, [s.vol], { init: false }); // ignores SIGTERM: its stop takes the whole timeout
  const before = snapshot(s.vol);
  const since = Date.now();
  const child = start(["restore", s.svc, "--yes", "--no-safety-backup", ...s.p.args], {
    stateHome: s.p.stateHome,
    env: { ...ENV, TOOLS_BACKUP_STOP_TIMEOUT: "5" },
  });
  expect(await waitFor(() => stopReceivedSince(s.app, since) && runnersUsing(s.vol) !== "", 30_000, 50)).toBe(true);
  child.child.kill("SIGKILL");
  await child.done;
  expect(await waitFor(() => runnersUsing(s.vol) === "", 15_000, 100)).toBe(true);
  expect(await waitFor(() => !containerInfo(s.app).running, 15_000)).toBe(true); // the stop went on without the run
  expect(snapshot(s.vol)).toEqual(before);
  expectClean(s.tb(["backup", s.svc]), 0, new RegExp(`started ${s.app}`));
});

test("restore SIGKILLed during extraction (300 MiB): the next BACKUP starts the app but refuses to save the partial data, giving the exact command; that command brings the data back", async () => {
  const s = setup(300);
  expect(s.tb(["backup", s.svc]).code).toBe(0);
  dockerOk(["exec", s.app, "sh", "-c", "echo added after the backup > /data/added.txt"]);
  const beforeRestore = snapshot(s.vol);

  const child = s.tbStart(["restore", s.svc, "--yes"]);
  expect(await waitFor(() => /replacing the content/.test(child.stderr()), 120_000, 5)).toBe(true);
  await Bun.sleep(600);
  child.child.kill("SIGKILL");
  await child.done;
  expect(containerInfo(s.app).running).toBe(false);
  const safety = listJson(s.p, s.svc, ENV).find((b) => b.kind === "pre-restore");
  expect(safety).toBeDefined();

  const before = listJson(s.p, s.svc, ENV).map((b) => b.id);
  const next = s.tb(["backup", s.svc]);
  const command = `tools-backup restore ${s.svc} --from ${safety!.id}`;
  expectClean(next, 1, /partly written/, new RegExp(`started ${s.app}`), /no backup is taken until that is resolved/);
  expect(next.stderr).toContain(command);
  expect(containerInfo(s.app).running).toBe(true);
  expect(fs.existsSync(s.journal)).toBe(false);
  // The partial data became no backup, so retention had nothing new to make room for.
  expect(listJson(s.p, s.svc, ENV).map((b) => b.id)).toEqual(before);
  // And the nightly run keeps refusing (status shows the failure) until a restore completes.
  expectClean(s.tb(["backup", "--cron"]), 1, /no backup is taken until that is resolved/);

  // Nothing lost: following the advice gives back the data exactly as it was before the restore.
  const back = s.tb([...command.split(" ").slice(1), "--yes", "--no-safety-backup"]);
  expectClean(back, 0);
  expect(snapshot(s.vol)).toEqual(beforeRestore);
  expect(containerInfo(s.app).running).toBe(true);
  expectClean(s.tb(["backup", s.svc]), 0);
  expectConsistent(s.p, s.svc, ENV);
});
