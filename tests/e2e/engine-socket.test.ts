/**
 * Backups read volumes from a local engine's socket, and through `docker cp` from any other
 * endpoint. Both must give the same archive, and a stream the engine cuts must never be kept.
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import path from "node:path";
import { cleanupCliTemp, run, start } from "../helpers/cli.ts";
import { cleanupDocker, createVolume, fillVolume, isRunning, runContainer, uniqueName } from "../helpers/docker.ts";
import { dockerStandIn } from "../helpers/docker-stand-in.ts";
import { expectClean, expectConsistent, listJson, svcName } from "../helpers/faults.ts";
import { faultyEngine } from "../helpers/faulty-engine.ts";
import { makeProject, readJson, textIfAny } from "../helpers/project.ts";

setDefaultTimeout(120_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

/** A docker CLI that logs each call; with `endpoint`, it reports that endpoint as the engine's. */
function loggingDocker(endpoint?: string): { bin: string; calls: () => string[] } {
  const fake = endpoint ? `case "$1 $2" in "context inspect") echo '${endpoint}'; exit 0;; esac\n` : "";
  const { bin, dir } = dockerStandIn((d) => `${fake}echo "$*" >> '${path.join(d, "calls.log")}'`, "tbtest-logdocker-");
  return { bin, calls: () => (textIfAny(path.join(dir, "calls.log")) ?? "").split("\n").filter(Boolean) };
}

test("a local engine's volumes are read from its socket, any other endpoint's with `docker cp`: the same archive either way", () => {
  const svc = svcName("sock");
  const vol = createVolume();
  fillVolume(
    vol,
    "mkdir -p d/empty && echo hello > d/a.txt && ln d/a.txt hard && ln -s d/a.txt soft && dd if=/dev/urandom of=r.bin bs=1k count=3000 2>/dev/null && chown 1234:5678 r.bin && chmod 4750 r.bin",
  );
  const p = makeProject({ services: { [svc]: [{ name: vol }] } });
  const socket = loggingDocker();
  const cli = loggingDocker("tcp://127.0.0.1:9");

  expect(
    run(["backup", svc, ...p.args], { stateHome: p.stateHome, env: { TOOLS_BACKUP_DOCKER: socket.bin } }).code,
  ).toBe(0);
  expect(run(["backup", svc, ...p.args], { stateHome: p.stateHome, env: { TOOLS_BACKUP_DOCKER: cli.bin } }).code).toBe(
    0,
  );

  expect(socket.calls().filter((c) => c.startsWith("cp "))).toEqual([]);
  expect(cli.calls().filter((c) => c.startsWith("cp "))).toHaveLength(1);
  const [viaSocket, viaCli] = listJson(p, svc).sort((a, b) => a.created_at.localeCompare(b.created_at));
  const manifest = (b: { manifest: string }) => readJson(b.manifest);
  expect(manifest(viaSocket!).archive.sha256).toBe(manifest(viaCli!).archive.sha256);
  expect(manifest(viaSocket!).volumes).toEqual(manifest(viaCli!).volumes);
  expect(manifest(viaSocket!).volumes[0]).toMatchObject({ files: 2, entries: 7, setuid: 1 });
  expectConsistent(p, svc);
});

for (const [what, fault, message] of [
  ["cuts the volume's stream mid-way", { cut: 8 << 20 }, "the Docker engine ended the stream early"],
  // Just the tar's end marker missing: every entry looks whole, only the marker tells the cut.
  ["stops the volume's stream just short of its end", { dropTail: 1024 }, "the Docker engine ended the stream early"],
  ["answers the download with an error", { error: "injected failure" }, "injected failure"],
] as const) {
  test(`the engine ${what}: exit 1 saying so, nothing kept, the container running again`, async () => {
    const svc = svcName("cut");
    const vol = createVolume();
    fillVolume(vol, "dd if=/dev/urandom of=big.bin bs=1M count=40 2>/dev/null");
    const app = runContainer(uniqueName("app"), [vol]);
    const p = makeProject({ services: { [svc]: [{ name: vol, container: app }] } });
    const engine = faultyEngine(fault);
    try {
      const r = await start(["backup", svc, ...p.args], { stateHome: p.stateHome, env: { DOCKER_HOST: engine.host } })
        .done;
      expect(engine.hits()).toBe(1);
      expectClean(r, 1, new RegExp(`reading volume ${vol}: ${message}`));
    } finally {
      engine.close();
    }
    expect(isRunning(app)).toBe(true);
    expect(expectConsistent(p, svc)).toEqual([]);
  });
}
