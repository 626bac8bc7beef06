/**
 * Containers that do not behave: one that ignores SIGTERM (sleep as PID 1, no --init) is stopped
 * after TOOLS_BACKUP_STOP_TIMEOUT and backed up; one that cannot start again (its bind-mount
 * source vanished while it ran: `docker start` fails for sure) is reported by name, the other
 * containers and services are still processed, exit 1, and the archive made is kept and verifies.
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, run, tempDir, waitFor } from "../helpers/cli.ts";
import {
  cleanupDocker,
  createVolume,
  docker,
  dockerOk,
  fillVolume,
  IMAGE,
  runContainer,
  uniqueName,
} from "../helpers/docker.ts";
import { containerInfo, expectClean, expectConsistent, listJson, svcName } from "../helpers/faults.ts";
import { makeProject, readJson } from "../helpers/project.ts";

setDefaultTimeout(180_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

test("a container that ignores SIGTERM is stopped after the 2 s timeout, backed up, and running again", () => {
  const svc = svcName("stub");
  const vol = createVolume();
  fillVolume(vol, "echo data > data.txt");
  const app = runContainer(uniqueName("stubborn"), [vol], { init: false });
  const p = makeProject({ services: { [svc]: [{ name: vol, container: app }] } });
  const started = containerInfo(app).startedAt;
  const t0 = Date.now();
  const r = run(["backup", svc, ...p.args], { stateHome: p.stateHome, env: { TOOLS_BACKUP_STOP_TIMEOUT: "2" } });
  expectClean(r, 0);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(2_000);
  expect(containerInfo(app).running).toBe(true);
  expect(containerInfo(app).startedAt).not.toBe(started); // it really was stopped
  const [b] = expectConsistent(p, svc);
  const m = readJson(b!.manifest);
  expect(m.containers_stopped).toEqual([app]);
  expect(m.downtime_ms).toBeGreaterThanOrEqual(2_000);
  expect(m.volumes[0].files).toBe(1);
});

test("a container whose start fails: named in the error, its sibling and the next service still done, exit 1, its archive kept", () => {
  const [a, b] = [svcName("a"), svcName("b")];
  const [volA1, volA2, volB] = [createVolume(), createVolume(), createVolume()];
  for (const v of [volA1, volA2, volB]) fillVolume(v, `echo ${v} > id.txt`);
  const source = path.join(tempDir("tbtest-bind-"), "src");
  fs.mkdirSync(source);
  const broken = uniqueName("broken");
  // Not registered with the docker helper: cleanupDocker removes it with its volume.
  dockerOk([
    "run",
    "-d",
    "--init",
    "--network",
    "none",
    "--name",
    broken,
    "-v",
    `${volA1}:/data`,
    "--mount",
    `type=bind,source=${source},target=/mnt`,
    IMAGE,
    "sleep",
    "100000",
  ]);
  fs.rmdirSync(source); // it keeps running; `docker start` will say the bind source does not exist
  const sibling = runContainer(uniqueName("sibling"), [volA2]);
  const other = runContainer(uniqueName("other"), [volB]);
  const p = makeProject({
    services: {
      [a]: [
        { name: volA1, container: broken },
        { name: volA2, container: sibling },
      ],
      [b]: [{ name: volB, container: other }],
    },
  });

  const r = run(["backup", a, b, "--json", ...p.args], {
    stateHome: p.stateHome,
    env: { TOOLS_BACKUP_STOP_TIMEOUT: "1" },
  });
  expectClean(r, 1, new RegExp(`${a} was backed up, but starting container ${broken}`));
  expect(r.stderr).toMatch(new RegExp(`1 of 2 backups failed: ${a}`));
  expect(JSON.parse(r.stdout).results.map((x: { service: string; ok: boolean }) => [x.service, x.ok])).toEqual([
    [a, false],
    [b, true],
  ]);
  expect(containerInfo(broken).running).toBe(false);
  expect(containerInfo(sibling).running).toBe(true);
  expect(containerInfo(other).running).toBe(true);
  // The archive is good: it is listed, complete, verifies, and holds both volumes.
  const [kept] = listJson(p, a);
  expect(kept!.complete).toBe(true);
  expect([...kept!.volumes].sort()).toEqual([volA1, volA2].sort());
  expect(run(["verify", a, ...p.args]).code).toBe(0);
  expect(expectConsistent(p, b)).toHaveLength(1);

  // The next run tries the broken one again (journal), says it still cannot start it, and backs up.
  const next = run(["backup", a, ...p.args], { stateHome: p.stateHome, env: { TOOLS_BACKUP_STOP_TIMEOUT: "1" } });
  expect(next.stderr).toContain(`could not start ${broken}`);
  expectClean(next, 0);
  expect(containerInfo(sibling).running).toBe(true);
  expect(expectConsistent(p, a)).toHaveLength(2);

  // Last, so the checks above still run: the user must learn WHY it did not start. docker prints
  // the daemon's reason, then "Error: failed to start containers: NAME"; only that last line is kept.
  expect(r.stderr).toMatch(/bind source path does not exist/);
});

test("a declared container crash-looping under --restart always is stopped for the archive, not restarted by Docker in the middle of it, and left looping", async () => {
  const svc = svcName("loop");
  const vol = createVolume();
  const looping = uniqueName("looping");
  // Not registered with the docker helper: cleanupDocker removes it with its volume.
  dockerOk([
    "run",
    "-d",
    "--restart",
    "always",
    "--network",
    "none",
    "--name",
    looping,
    "-v",
    `${vol}:/d`,
    IMAGE,
    "sh",
    "-c",
    "echo boot >> /d/boots; exit 1",
  ]);
  const status = () => docker(["container", "inspect", "--format", "{{.State.Status}}", looping]).stdout.trim();
  // Docker doubles the delay between restarts from 100 ms: after 6 it waits 6.4 s, "restarting".
  const restarts = () =>
    Number(docker(["container", "inspect", "--format", "{{.RestartCount}}", looping]).stdout.trim());
  expect(await waitFor(() => restarts() >= 6 && status() === "restarting", 60_000, 20)).toBe(true);
  const p = makeProject({ services: { [svc]: [{ name: vol, container: looping }] } });

  const r = run(["backup", svc, ...p.args], { stateHome: p.stateHome, env: { TOOLS_BACKUP_STOP_TIMEOUT: "1" } });
  expectClean(r, 0, new RegExp(`stopping ${looping}`));
  const [b] = expectConsistent(p, svc);
  expect(readJson(b!.manifest).containers_stopped).toEqual([looping]);
  expect(["running", "restarting"]).toContain(status()); // back in its loop, as the user left it
});
