/**
 * Backups read volumes from a local engine's socket, and through `docker cp` from any other
 * endpoint. Both must give the same archive, and a stream the engine cuts must never be kept.
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { cleanupCliTemp, run, start, tempDir } from "../helpers/cli.ts";
import { cleanupDocker, createVolume, fillVolume, isRunning, runContainer, uniqueName } from "../helpers/docker.ts";
import { expectClean, expectConsistent, listJson, svcName } from "../helpers/faults.ts";
import { makeProject, readJson } from "../helpers/project.ts";

setDefaultTimeout(120_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

const ENGINE_SOCKET = "/var/run/docker.sock";

/** A docker CLI that logs each call; with `endpoint`, it reports that endpoint as the engine's. */
function loggingDocker(endpoint?: string): { bin: string; calls: () => string[] } {
  const dir = tempDir("tbtest-logdocker-");
  const log = path.join(dir, "calls.log");
  const fake = endpoint ? `case "$1 $2" in "context inspect") echo '${endpoint}'; exit 0;; esac\n` : "";
  fs.writeFileSync(path.join(dir, "docker"), `#!/bin/sh\n${fake}echo "$*" >> '${log}'\nexec docker "$@"\n`, { mode: 0o755 });
  return { bin: path.join(dir, "docker"), calls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : []) };
}

test("a local engine's volumes are read from its socket, any other endpoint's with `docker cp`: the same archive either way", () => {
  const svc = svcName("sock");
  const vol = createVolume();
  fillVolume(vol, "mkdir -p d/empty && echo hello > d/a.txt && ln d/a.txt hard && ln -s d/a.txt soft && dd if=/dev/urandom of=r.bin bs=1k count=3000 2>/dev/null && chown 1234:5678 r.bin && chmod 4750 r.bin");
  const p = makeProject({ services: { [svc]: [{ name: vol }] } });
  const socket = loggingDocker();
  const cli = loggingDocker("tcp://127.0.0.1:9");

  expect(run(["backup", svc, ...p.args], { stateHome: p.stateHome, env: { TOOLS_BACKUP_DOCKER: socket.bin } }).code).toBe(0);
  expect(run(["backup", svc, ...p.args], { stateHome: p.stateHome, env: { TOOLS_BACKUP_DOCKER: cli.bin } }).code).toBe(0);

  expect(socket.calls().filter((c) => c.startsWith("cp "))).toEqual([]);
  expect(cli.calls().filter((c) => c.startsWith("cp "))).toHaveLength(1);
  const [viaSocket, viaCli] = listJson(p, svc).sort((a, b) => a.created_at.localeCompare(b.created_at));
  const manifest = (b: { manifest: string }) => readJson(b.manifest);
  expect(manifest(viaSocket!).archive.sha256).toBe(manifest(viaCli!).archive.sha256);
  expect(manifest(viaSocket!).volumes).toEqual(manifest(viaCli!).volumes);
  expect(manifest(viaSocket!).volumes[0]).toMatchObject({ files: 2, entries: 7, setuid: 1 });
  expectConsistent(p, svc);
});

/** Passes the engine's socket through, but cuts the first archive download after `limit` bytes. */
function cuttingProxy(limit: number): { host: string; cuts: () => number; close: () => void } {
  const file = path.join(tempDir("tbtest-proxy-"), "engine.sock");
  let cuts = 0;
  const server = net.createServer((client) => {
    const engine = net.connect(ENGINE_SOCKET);
    let sent = 0;
    let cut = false;
    client.on("data", (b: Buffer) => {
      if (cuts === 0 && /^GET [^ ]*\/archive\?/.test(b.toString("latin1", 0, 200))) cut = true;
      engine.write(b);
    });
    engine.on("data", (b: Buffer) => {
      if (!cut) return void client.write(b);
      client.write(b.subarray(0, Math.max(0, limit - sent)));
      sent += b.length;
      if (sent >= limit) {
        cuts++;
        client.destroy();
        engine.destroy();
      }
    });
    for (const s of [client, engine]) s.on("error", () => undefined).on("close", () => (client.destroy(), engine.destroy()));
  });
  server.listen(file);
  return { host: `unix://${file}`, cuts: () => cuts, close: () => server.close() };
}

test("the engine cuts the volume's stream mid-way: exit 1, nothing kept, the container running again", async () => {
  const svc = svcName("cut");
  const vol = createVolume();
  fillVolume(vol, "dd if=/dev/urandom of=big.bin bs=1M count=40 2>/dev/null");
  const app = runContainer(uniqueName("app"), [vol]);
  const p = makeProject({ services: { [svc]: [{ name: vol, container: app }] } });
  const proxy = cuttingProxy(8 << 20);
  try {
    const r = await start(["backup", svc, ...p.args], { stateHome: p.stateHome, env: { DOCKER_HOST: proxy.host } }).done;
    expect(proxy.cuts()).toBe(1);
    expectClean(r, 1, new RegExp(`reading volume ${vol}: the Docker engine ended the stream early`));
  } finally {
    proxy.close();
  }
  expect(isRunning(app)).toBe(true);
  expect(expectConsistent(p, svc)).toEqual([]);
});
