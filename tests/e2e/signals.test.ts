/**
 * SIGTERM / SIGINT while the archive is being written: the run must start the container it
 * stopped, leave no archive (final or temporary) behind, and exit 143 / 130.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, run, start, waitFor } from "../helpers/cli.ts";
import {
  cleanupDocker,
  createVolume,
  fillVolume,
  isRunning,
  leftoverHelpers,
  removeContainer,
  removeLeftoverHelpers,
  runContainer,
  stopReceivedSince,
  uniqueName,
} from "../helpers/docker.ts";
import { filesIn, makeProject } from "../helpers/project.ts";

setDefaultTimeout(120_000);

let vol: string;
beforeAll(() => {
  vol = createVolume();
  // Incompressible, so zstd has real work to do for a few seconds.
  fillVolume(
    vol,
    "dd if=/dev/urandom of=big1.bin bs=1M count=150 2>/dev/null && dd if=/dev/urandom of=big2.bin bs=1M count=150 2>/dev/null",
  );
}, 120_000);
afterAll(() => {
  cleanupDocker();
  cleanupCliTemp();
});

const cases = [
  { signal: "SIGTERM", code: 143, times: 1 },
  { signal: "SIGINT", code: 130, times: 1 },
  // A second signal while cleaning up must not cut the cleanup short.
  { signal: "SIGTERM", code: 143, times: 2 },
  // Not in the documented contract, but an ssh session dropping mid-backup sends it: 128 + 1.
  { signal: "SIGHUP", code: 129, times: 1 },
] as const;

describe("interrupted while archiving", () => {
  for (const { signal, code, times } of cases) {
    test(`${signal}${times > 1 ? " twice" : ""} -> exit ${code}, container running again, nothing left in backup_dir`, async () => {
      const svc = uniqueName("sig").replace(/-/g, "");
      const container = runContainer(uniqueName("app"), [vol]);
      const p = makeProject({ services: { [svc]: [{ name: vol, container }] } });
      const folder = p.serviceFolder(svc);

      const child = start(["backup", svc, ...p.args], { stateHome: p.stateHome });
      // The temporary archive appears once the container is stopped and the copy has begun.
      const writing = await waitFor(() => filesIn(folder).some((n) => n.startsWith(".tmp-")), 60_000, 5);
      expect(writing).toBe(true);
      await Bun.sleep(300);
      const stillWriting = filesIn(folder).some((n) => n.startsWith(".tmp-"));
      for (let i = 0; i < times; i++) {
        child.child.kill(signal);
        await Bun.sleep(50);
      }
      const r = await child.done;
      expect(stillWriting).toBe(true); // otherwise the signal came too late to test anything

      const journal = path.join(p.stateHome, "tools-backup", "journal", `${svc}.json`);
      const outcome = {
        code: r.code,
        killedBy: r.signal,
        running: isRunning(container),
        files: filesIn(folder),
        helpers: leftoverHelpers(svc),
        journal: fs.existsSync(journal),
      };
      removeLeftoverHelpers(svc);
      expect(outcome).toEqual({ code, killedBy: null, running: true, files: [], helpers: [], journal: false });
      expect(r.stderr).toContain(signal);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    });
  }
});

test("SIGTERM while `docker stop` is still waiting: the container is started again, exit 143", async () => {
  const svc = uniqueName("slow").replace(/-/g, "");
  const small = createVolume();
  fillVolume(small, "echo x > x");
  const container = runContainer(uniqueName("stubborn"), [small], { init: false });
  const p = makeProject({ services: { [svc]: [{ name: small, container }] } });

  const t0 = Date.now();
  const child = start(["backup", svc, ...p.args], { stateHome: p.stateHome, env: { TOOLS_BACKUP_STOP_TIMEOUT: "4" } });
  expect(await waitFor(() => stopReceivedSince(container, t0), 30_000, 50)).toBe(true);
  child.child.kill("SIGTERM");
  const r = await child.done;

  expect(r.code).toBe(143);
  expect(Date.now() - t0).toBeGreaterThan(3_500); // the stop timeout was honoured, not cut short
  expect(isRunning(container)).toBe(true);
  expect(filesIn(p.serviceFolder(svc))).toEqual([]);
  expect(leftoverHelpers(svc)).toEqual([]);
});

/** A backup SIGKILLed while its `docker stop` waits (sleep as PID 1 ignores SIGTERM): the container ends up stopped, the journal left. */
async function killedWhileStopping(what: string) {
  const svc = uniqueName(what).replace(/-/g, "");
  const small = createVolume();
  fillVolume(small, "echo x > x");
  const container = runContainer(uniqueName("stubborn"), [small], { init: false });
  const p = makeProject({ services: { [svc]: [{ name: small, container }] } });
  const env = { TOOLS_BACKUP_STOP_TIMEOUT: "3" };
  const since = Date.now();
  const child = start(["backup", svc, ...p.args], { stateHome: p.stateHome, env });
  expect(await waitFor(() => stopReceivedSince(container, since), 30_000, 50)).toBe(true);
  child.child.kill("SIGKILL");
  await child.done;
  // The `docker stop` it asked for goes on without it.
  expect(await waitFor(() => !isRunning(container), 20_000, 100)).toBe(true);
  const journal = path.join(p.stateHome, "tools-backup", "journal", `${svc}.json`);
  expect(fs.existsSync(journal)).toBe(true);
  const next = () => run(["backup", svc, ...p.args], { stateHome: p.stateHome, env });
  return { svc, small, container, p, journal, next };
}

test("SIGKILL while containers are stopped: the next run starts them again, says so, and cleans up", async () => {
  const { svc, container, p, journal, next } = await killedWhileStopping("kill");
  const r = next();
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/killed/);
  expect(r.stderr).toContain(container);
  expect(isRunning(container)).toBe(true);
  expect(fs.existsSync(journal)).toBe(false);
  expect(leftoverHelpers(svc)).toEqual([]);
  expect(filesIn(p.serviceFolder(svc)).filter((n) => n.endsWith(".tar.zst"))).toHaveLength(1);
  expect(filesIn(p.serviceFolder(svc)).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
});

test("SIGKILL while containers are stopped, then the user re-creates the container and leaves it stopped: the next run does not start it, and says why", async () => {
  const { small, container, journal, next } = await killedWhileStopping("recreated");
  // What `docker compose up` then `docker compose stop` would leave: the same name, a new container, stopped.
  removeContainer(container);
  runContainer(container, [small], { stopped: true });
  const r = next();
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(new RegExp(`${container} was not started: it has been re-created`));
  expect(isRunning(container)).toBe(false);
  expect(fs.existsSync(journal)).toBe(false);
});

test("a second backup of the same service is refused while one runs (exit 1, names the pid); --wait queues", async () => {
  const svc = uniqueName("lock").replace(/-/g, "");
  const p = makeProject({ services: { [svc]: [{ name: vol }] } });
  const folder = p.serviceFolder(svc);
  const busy = async (extra: string[]) => {
    const first = start(["backup", svc, ...p.args], { stateHome: p.stateHome });
    expect(await waitFor(() => filesIn(folder).some((n) => n.startsWith(".tmp-")), 60_000, 5)).toBe(true);
    const second = start(["backup", svc, ...extra, ...p.args], { stateHome: p.stateHome });
    return { first: await first.done, second: await second.done, pid: first.child.pid };
  };

  const refused = await busy([]);
  expect(refused.first.code).toBe(0);
  expect(refused.second.code).toBe(1);
  expect(refused.second.stderr).toContain(`pid ${refused.pid}`);
  expect(filesIn(folder).filter((n) => n.endsWith(".tar.zst"))).toHaveLength(1);

  const queued = await busy(["--wait"]);
  expect(queued.first.code).toBe(0);
  expect(queued.second.code).toBe(0);
  expect(filesIn(folder).filter((n) => n.endsWith(".tar.zst"))).toHaveLength(3);
});
