/**
 * SIGINT and SIGTERM, 20 times each, at seeded pseudo-random moments spread over a whole backup:
 * before the stop, during `docker stop`, while streaming, during the compression tail and the
 * manifest. (signals.test.ts hits fixed points; this walks the whole timeline.) After EVERY run:
 * the container runs, nothing partial is left or listed, verify passes, the older backup is
 * untouched, and the exit code is 130/143, or 0 when the run was already over.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { sha256 } from "../helpers/archive.ts";
import { cleanupCliTemp, stackLines, start, waitFor } from "../helpers/cli.ts";
import { cleanupDocker, createVolume, fillVolume, runContainer, uniqueName } from "../helpers/docker.ts";
import {
  containerInfo,
  expectConsistent,
  folderState,
  listJson,
  prng,
  randomFill,
  svcName,
} from "../helpers/faults.ts";
import { makeProject, type Project } from "../helpers/project.ts";

setDefaultTimeout(600_000);

const RUNS = 20;
// `sleep` as PID 1 ignores SIGTERM, so `docker stop` takes the whole timeout: a real window to hit.
const ENV = { TOOLS_BACKUP_STOP_TIMEOUT: "1" };
let svc: string;
let vol: string;
let app: string;
let p: Project;
let totalMs = 0;
let older: { file: string; sha: string; id: string }[];
const tally: Record<string, Record<string, number>> = {};

beforeAll(async () => {
  vol = createVolume();
  fillVolume(vol, randomFill(24));
  app = runContainer(uniqueName("stubborn"), [vol], { init: false });
  svc = svcName("rnd");
  p = makeProject({ services: { [svc]: [{ name: vol, container: app }] } });
  // Calibration: two whole runs, the faster one timed (the first may pay one-off costs); their
  // backups are the "older backups" that must survive everything.
  totalMs = Infinity;
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    const r = await start(["backup", svc, ...p.args], { stateHome: p.stateHome, env: ENV }).done;
    totalMs = Math.min(totalMs, performance.now() - t0);
    if (r.code !== 0) throw new Error(`calibration backup failed: ${r.stderr}`);
  }
  older = listJson(p, svc).map((b) => ({ file: b.file, sha: sha256(b.file), id: b.id }));
}, 180_000);

afterAll(() => {
  console.log(
    `signal outcomes by phase (calibrated run ${Math.round(totalMs)} ms):\n${JSON.stringify(tally, null, 1)}`,
  );
  cleanupDocker();
  cleanupCliTemp();
});

/** Where the run was when the signal went out, from the steps it had logged. */
function phaseOf(stderr: string): string {
  if (stderr.includes(`${svc}: starting ${app}`)) return "compression tail / manifest";
  if (stderr.includes(`${svc}: archiving`)) return "streaming";
  if (stderr.includes(`${svc}: stopping`)) return "docker stop";
  return "before stop";
}

for (const [signal, code, seed] of [
  ["SIGINT", 130, 0x5121],
  ["SIGTERM", 143, 0x5151],
] as const) {
  describe(signal, () => {
    test(`${RUNS} runs at pseudo-random moments (seed ${seed}): container always running, nothing partial, exit ${code} or 0`, async () => {
      const rnd = prng(seed);
      const phases = new Set<string>();
      for (let i = 0; i < RUNS; i++) {
        // Stratified: run i lands in slice i of the calibrated run (plus 5% past its end).
        const delay = Math.round(((i + rnd()) / RUNS) * totalMs * 1.05);
        const before = new Set(folderState(p.serviceFolder(svc)).manifests);
        const child = start(["backup", svc, ...p.args], { stateHome: p.stateHome, env: ENV });
        await Bun.sleep(delay);
        const phase =
          child.child.exitCode === null && child.child.signalCode === null ? phaseOf(child.stderr()) : "after the end";
        child.child.kill(signal);
        const r = await child.done;
        phases.add(phase);
        const outcome =
          r.code === code ? `exit ${code}` : r.code === 0 ? "exit 0" : `exit ${r.code} signal ${r.signal}`;
        const counts = tally[signal] ?? {};
        tally[signal] = counts;
        counts[`${phase}: ${outcome}`] = (counts[`${phase}: ${outcome}`] ?? 0) + 1;

        const info = containerInfo(app);
        const label = { signal, run: i, delay, phase };
        // Exit 0 only when the run had already ended; killed by the signal itself only before the
        // handlers exist (process start-up), when nothing has been touched yet.
        const okCode =
          r.code === code ||
          (r.code === 0 && phase !== "before stop") ||
          (r.signal === signal && phase === "before stop");
        expect({ ...label, okCode, running: info.running, stack: stackLines(r.stderr) }).toEqual({
          ...label,
          okCode: true,
          running: true,
          stack: [],
        });
        // A signal in the compression tail lets the (already consistent) archive finish: still exit 130/143.
        if (r.code === code) expect(r.stderr).toContain(`${signal} received`);
        expectConsistent(p, svc, ENV);
        // Runs that completed anyway made a good (verified) backup: remove it to keep verify cheap.
        for (const m of folderState(p.serviceFolder(svc)).manifests.filter((n) => !before.has(n))) {
          const id = m.slice(0, -".json".length);
          fs.rmSync(path.join(p.serviceFolder(svc), m));
          fs.rmSync(path.join(p.serviceFolder(svc), `${id}.tar.zst`));
        }
      }
      for (const o of older) expect(sha256(o.file)).toBe(o.sha);
      expect(listJson(p, svc).map((b) => b.id)).toEqual(older.map((o) => o.id));
      // The slices must really have covered the run, or this proved less than it claims.
      expect([...phases].filter((x) => x !== "after the end").sort()).toEqual([
        "before stop",
        "compression tail / manifest",
        "docker stop",
        "streaming",
      ]);
    });
  });
}

test("SIGINT once the first service's archive is complete: the run ends there, the next service's container is never stopped", async () => {
  const vol2 = createVolume();
  fillVolume(vol2, "echo b > b.txt");
  const app2 = runContainer(uniqueName("app2"), [vol2]);
  const svc2 = svcName("next");
  const q = makeProject({
    services: { [svc]: [{ name: vol, container: app }], [svc2]: [{ name: vol2, container: app2 }] },
  });
  const started2 = containerInfo(app2).startedAt;
  const child = start(["backup", svc, svc2, ...q.args], { stateHome: q.stateHome, env: ENV });
  // The first backup is published; the run is between services (pruning, preparing the next).
  expect(await waitFor(() => folderState(q.serviceFolder(svc)).manifests.length > 0, 90_000, 2)).toBe(true);
  child.child.kill("SIGINT");
  const r = await child.done;

  expect(r.code).toBe(130);
  expect(containerInfo(app).running).toBe(true);
  expect(expectConsistent(q, svc, ENV)).toHaveLength(1); // that archive was complete: it is kept
  expect(r.stderr).not.toContain(`${svc2}: stopping`);
  expect(containerInfo(app2)).toMatchObject({ running: true, startedAt: started2 });
  expect(folderState(q.serviceFolder(svc2)).archives).toEqual([]);
});
