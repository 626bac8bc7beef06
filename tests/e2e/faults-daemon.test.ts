/**
 * The Docker daemon stopped before a run, and killed with SIGKILL while a backup streams. Uses a
 * SECOND dockerd of this file's own (tests/helpers/second-dockerd.ts) through DOCKER_HOST, so the
 * main daemon, which other tests share, is never touched. Its containers run with --init, no
 * restart policy and `--network none`; a daemon that dies takes them down.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, run, start, waitFor } from "../helpers/cli.ts";
import { uniqueName } from "../helpers/docker.ts";
import { expectClean, expectConsistent, folderState, listJson, randomFill, svcName } from "../helpers/faults.ts";
import { makeProject } from "../helpers/project.ts";
import { loadImage, type SecondDaemon, secondDaemon } from "../helpers/second-dockerd.ts";

setDefaultTimeout(300_000);

let d: SecondDaemon;
beforeAll(async () => {
  d = secondDaemon();
  await d.start();
  loadImage(d, "busybox:stable");
}, 180_000);
afterAll(async () => {
  await d?.cleanup();
  cleanupCliTemp();
});

const env = () => ({ DOCKER_HOST: d.host, TOOLS_BACKUP_STOP_TIMEOUT: "1" });

/** A volume of `mib` MiB random data and a running app using it, both on the second daemon. */
function service(mib: number) {
  const svc = svcName("dmn");
  const vol = uniqueName("vol");
  const app = uniqueName("app");
  d.dockerOk(["volume", "create", vol]);
  d.dockerOk([
    "run",
    "--rm",
    "--network",
    "none",
    "-v",
    `${vol}:/d`,
    "-w",
    "/d",
    "busybox:stable",
    "sh",
    "-c",
    randomFill(mib),
  ]);
  d.dockerOk([
    "run",
    "-d",
    "--init",
    "--network",
    "none",
    "--name",
    app,
    "-v",
    `${vol}:/data`,
    "busybox:stable",
    "sleep",
    "100000",
  ]);
  const p = makeProject({ services: { [svc]: [{ name: vol, container: app }] } });
  const tb = (args: string[]) => run([...args, ...p.args], { stateHome: p.stateHome, env: env() });
  const running = () =>
    d.docker(["container", "inspect", "--format", "{{.State.Running}}", app]).stdout.trim() === "true";
  const helpers = () =>
    d
      .docker(["ps", "-aq", "--filter", `label=io.tools-backup.helper=${svc}`])
      .stdout.split("\n")
      .filter(Boolean);
  return {
    svc,
    vol,
    app,
    p,
    tb,
    running,
    helpers,
    folder: p.serviceFolder(svc),
    journal: path.join(p.stateHome, "tools-backup", "journal", `${svc}.json`),
  };
}

test("daemon stopped: backup and restore say it cannot be reached (exit 1, no stack); list, verify work, services shows what it can", async () => {
  const s = service(1);
  expect(s.tb(["backup", s.svc]).code).toBe(0);
  const before = folderState(s.folder);
  await d.stop();
  try {
    for (const cmd of [["backup", s.svc], ["backup"], ["restore", s.svc, "--yes"], ["restore", s.svc, "--dry-run"]]) {
      const r = s.tb(cmd);
      expectClean(r, 1);
      expect(r.stderr).toContain(`cannot reach the Docker engine at ${d.host}; is it running?`);
      expect({ cmd, lines: r.stderr.trim().split("\n").length }).toEqual({ cmd, lines: cmd[0] === "backup" ? 2 : 1 });
    }
    expect(folderState(s.folder)).toEqual(before);
    for (const cmd of [["list"], ["verify"]]) expect({ cmd, code: s.tb(cmd).code }).toEqual({ cmd, code: 0 });
    const services = s.tb(["services", "--json"]);
    expect(services.code).toBe(1);
    expect(JSON.parse(services.stdout)[0].volumes).toEqual([{ name: s.vol, exists: null }]);
  } finally {
    await d.start();
  }
  expect(fs.existsSync(s.journal)).toBe(false);
});

test("daemon SIGKILLed while a 200 MiB volume streams: clear failure, nothing partial; once it is back the next run starts the app and succeeds", async () => {
  const s = service(200);
  const child = start(["backup", s.svc, ...s.p.args], { stateHome: s.p.stateHome, env: env() });
  expect(await waitFor(() => folderState(s.folder).temps.length > 0, 90_000, 5)).toBe(true);
  await Bun.sleep(300);
  const stillWriting = folderState(s.folder).temps.length > 0;
  await d.kill9();
  const r = await child.done;
  expect(stillWriting).toBe(true);

  console.log(`the run whose daemon was killed said:\n${r.stderr}`);
  // Our own words for a lost engine ("cannot reach the Docker engine", "ended the stream early"), or the CLI's.
  expectClean(r, 1, new RegExp(`${s.svc}: `), /Docker engine|daemon|connect|EOF/i);
  expect(r.stderr).toContain(s.app); // it says it could not start the app again
  expect(folderState(s.folder)).toEqual({ archives: [], manifests: [], temps: [], other: [] });
  expect(JSON.parse(fs.readFileSync(s.journal, "utf8"))).toMatchObject({ stopped: [s.app] });

  await d.start();
  expect(s.running()).toBe(false); // the restarted daemon does not bring it back by itself
  const next = s.tb(["backup", s.svc]);
  expectClean(next, 0, /recovering/, new RegExp(`started ${s.app}`));
  expect(s.running()).toBe(true);
  expect(s.helpers()).toEqual([]);
  expect(expectConsistent(s.p, s.svc, env())).toHaveLength(1);
  expect(listJson(s.p, s.svc, env())[0]!.volumes).toEqual([s.vol]);
});
