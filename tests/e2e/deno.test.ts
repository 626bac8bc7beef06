/**
 * The same source runs under Deno: a backup made by `deno run -A src/cli.ts` is listed and
 * verified by the compiled Bun binary, and one made by the binary is restored under Deno.
 */
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { binaryEnv, cleanupCliTemp, REPO, run } from "../helpers/cli.ts";
import { denoBinary } from "../helpers/deno.ts";
import {
  checksums,
  cleanupDocker,
  createVolume,
  inVolume,
  isRunning,
  runContainer,
  uniqueName,
} from "../helpers/docker.ts";
import { makeProject } from "../helpers/project.ts";

afterAll(() => {
  cleanupDocker();
  cleanupCliTemp();
});

test("deno and the compiled binary read and write the same backups", () => {
  const deno = denoBinary(REPO);
  const volume = createVolume();
  const container = uniqueName("ctr");
  inVolume(
    volume,
    "mkdir -p /d/sub && echo deno > /d/sub/a.txt && dd if=/dev/urandom of=/d/b.bin bs=64k count=16 2>/dev/null",
  );
  runContainer(container, [volume]);
  const p = makeProject({ services: { app: [{ name: volume, container }] } });
  const env = binaryEnv({ stateHome: p.stateHome });
  const denoRun = (args: string[]) =>
    spawnSync(deno, ["run", "-A", path.join(REPO, "src/cli.ts"), ...args], {
      cwd: REPO,
      env,
      encoding: "utf8",
      timeout: 110_000,
    });

  const made = denoRun(["backup", "app", ...p.args, "--json"]);
  expect(made.stderr).not.toContain("error");
  expect(made.status).toBe(0);
  const [result] = JSON.parse(made.stdout).results;
  expect(result.ok).toBe(true);
  expect(isRunning(container)).toBe(true);

  const listed = run(["list", "app", "--json", ...p.args], { stateHome: p.stateHome });
  expect(JSON.parse(listed.stdout).map((b: { id: string }) => b.id)).toEqual([result.id]);
  expect(run(["verify", "app", ...p.args], { stateHome: p.stateHome }).code).toBe(0);

  const before = checksums(volume);
  inVolume(volume, "echo changed > /d/sub/a.txt && echo extra > /d/extra");
  const restored = denoRun(["restore", "app", "--yes", "--from", result.id, ...p.args]);
  expect(restored.status).toBe(0);
  expect(checksums(volume)).toEqual(before);
  expect(isRunning(container)).toBe(true);
});
