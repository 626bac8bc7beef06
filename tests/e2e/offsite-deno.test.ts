/**
 * The offsite client under Deno: `deno run -A src/cli.ts` (as tests/e2e/deno.test.ts runs the
 * tool) backs up with an offsite copy, in several parts with one retried, and restores from it
 * on a new machine.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { binaryEnv, cleanupCliTemp, REPO } from "../helpers/cli.ts";
import { denoBinary } from "../helpers/deno.ts";
import { checksums, cleanupDocker, createVolume, docker, inVolume, volumeExists } from "../helpers/docker.ts";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.ts";
import { BUCKET, copyEntry, keyFile } from "../helpers/offsite-kit.ts";
import { makeProject, type Project } from "../helpers/project.ts";
import { rcloneClient } from "../helpers/s3-client.ts";
import { type S3Server, startS3Server } from "../helpers/s3-server.ts";

setDefaultTimeout(170_000);

let server: S3Server;
let proxy: FaultProxy;

beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET] });
  proxy = await startFaultProxy(server.endpoint);
});
afterAll(async () => {
  await proxy.stop();
  await server.stop();
  cleanupDocker();
  cleanupCliTemp();
});

/** Runs without blocking: the proxy lives in this process and must answer meanwhile. */
async function denoRun(deno: string, p: Project, args: string[]) {
  const proc = Bun.spawn([deno, "run", "-A", path.join(REPO, "src/cli.ts"), ...args, ...p.args], {
    cwd: REPO,
    env: binaryEnv({ stateHome: p.stateHome, env: { TOOLS_BACKUP_STOP_TIMEOUT: "2" } }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 150_000,
  });
  const [stdout, stderr, status] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  expect(stdout).not.toContain(server.secretAccessKey);
  expect(stderr).not.toContain(server.secretAccessKey);
  return { stdout, stderr, status };
}

test("under deno, a backup reaches the offsite copy whole and a new machine restores from it", async () => {
  const deno = denoBinary(REPO);
  const volume = createVolume();
  // Random bytes do not compress: an archive over one 8 MiB part, so the multipart upload runs.
  inVolume(volume, "echo deno > a.txt && dd if=/dev/urandom of=big.bin bs=1M count=12 2>/dev/null");
  const service = "app";
  const prefix = "deno";
  // Through the recording proxy, so the requests Deno's fetch made can be seen.
  const setUp = (p: Project) =>
    p.writeConfig({
      services: { [service]: true },
      offsite: [copyEntry(server, "b2", prefix, keyFile(p.root, server), { endpoint: proxy.url })],
    });
  const p = makeProject({ services: { [service]: [{ name: volume }] } });
  setUp(p);

  proxy.fail({
    match: { method: "PUT", query: { partNumber: "2" } },
    action: { kind: "error", status: 500, code: "InternalError" },
    times: 1,
  });
  const made = await denoRun(deno, p, ["backup", service, "--json"]);
  expect(made.stderr).not.toMatch(/^\s+at /m);
  expect(made.status).toBe(0);
  const [result] = JSON.parse(made.stdout).results;
  expect(result.ok).toBe(true);
  expect(made.stderr).toContain(`b2: uploaded ${result.id}`);
  const archive = fs.readdirSync(p.serviceFolder(service)).find((f) => f.startsWith(`${result.id}.tar`))!;
  const local = fs.readFileSync(path.join(p.serviceFolder(service), archive));
  expect(local.length).toBeGreaterThan(8 << 20);
  const parts = proxy.requests.filter((r) => r.method === "PUT" && r.params.has("partNumber"));
  expect(parts.map((r) => [r.params.get("partNumber"), r.status])).toEqual(
    expect.arrayContaining([
      ["1", 200],
      ["2", 500],
      ["2", 200],
    ]),
  );
  const s3 = rcloneClient(server);
  expect(await s3.sha256(BUCKET, `${prefix}/${service}/${archive}`)).toBe(
    createHash("sha256").update(local).digest("hex"),
  );
  const manifest = fs.readFileSync(path.join(p.serviceFolder(service), `${result.id}.json`), "utf8");
  expect(await s3.sha256(BUCKET, `${prefix}/${service}/${result.id}.json`)).toBe(
    createHash("sha256").update(manifest).digest("hex"),
  );

  // A new machine, under deno too: the volume is gone, backup_dir empty.
  const sums = checksums(volume);
  docker(["volume", "rm", volume]); // the name stays recorded for cleanupDocker
  const m = makeProject({ services: { [service]: [{ name: volume }] } });
  setUp(m);
  const listed = await denoRun(deno, m, ["list", service]);
  expect(listed.status).toBe(0);
  expect(listed.stdout).toMatch(new RegExp(`^${result.id} .* b2\\s*$`, "m"));
  const restored = await denoRun(deno, m, ["restore", service, "--yes"]);
  expect(restored.stderr).not.toMatch(/^\s+at /m);
  expect(restored.status).toBe(0);
  expect(restored.stderr).toContain(`b2: fetched ${result.id}`);
  expect(volumeExists(volume)).toBe(true);
  expect(checksums(volume)).toEqual(sums);
});
