/**
 * SIGTERM / SIGINT while the archive is being written: the run must start the container it
 * stopped, leave no archive (final or temporary) behind, and exit 143 / 130.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, start, waitFor } from "../helpers/cli.ts";
import { cleanupDocker, createVolume, fillVolume, isRunning, leftoverHelpers, runContainer, uniqueName } from "../helpers/docker.ts";
import { filesIn, makeProject } from "../helpers/project.ts";

setDefaultTimeout(120_000);

let vol: string;
beforeAll(() => {
  vol = createVolume();
  // Incompressible, so zstd has real work to do for a few seconds.
  fillVolume(vol, "dd if=/dev/urandom of=big1.bin bs=1M count=150 2>/dev/null && dd if=/dev/urandom of=big2.bin bs=1M count=150 2>/dev/null");
}, 120_000);
afterAll(() => {
  cleanupDocker();
  cleanupCliTemp();
});

const cases = [
  { signal: "SIGTERM", code: 143 },
  { signal: "SIGINT", code: 130 },
] as const;

describe("interrupted while archiving", () => {
  for (const { signal, code } of cases) {
    test(`${signal} -> exit ${code}, container running again, nothing left in backup_dir`, async () => {
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
      child.child.kill(signal);
      const r = await child.done;

      expect(stillWriting).toBe(true); // otherwise the signal came too late to test anything
      expect(r.signal).toBeNull();
      expect(r.code).toBe(code);
      expect(r.stderr).toContain(signal);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(isRunning(container)).toBe(true);
      expect(filesIn(folder)).toEqual([]);
      expect(leftoverHelpers(svc)).toEqual([]);
      const journal = path.join(p.stateHome, "tools-backup", "journal", `${svc}.json`);
      expect(fs.existsSync(journal)).toBe(false);
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
  expect(await waitFor(() => /stopping/.test(child.stderr()), 30_000)).toBe(true);
  await Bun.sleep(500);
  child.child.kill("SIGTERM");
  const r = await child.done;

  expect(r.code).toBe(143);
  expect(Date.now() - t0).toBeGreaterThan(3_500); // the stop timeout was honoured, not cut short
  expect(isRunning(container)).toBe(true);
  expect(filesIn(p.serviceFolder(svc))).toEqual([]);
  expect(leftoverHelpers(svc)).toEqual([]);
});
