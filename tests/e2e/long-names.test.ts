/**
 * A volume name as long as Docker allows: 255 characters, the longest the engine's local driver
 * accepts (its folder /var/lib/docker/volumes/<name> must fit; 300 is refused). With ".lock"
 * added it no longer fits in a file name, yet its backups, restores and volume lock must work.
 */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, waitFor } from "../helpers/cli.ts";
import { cleanupDocker, createVolume, fillVolume, isRunning, runContainer, uniqueName } from "../helpers/docker.ts";
import { makeProject } from "../helpers/project.ts";
import { app, backupOk, cleanupApps, FILL, type Svc, state, svcName, tb, tbStart } from "../helpers/restore-kit.ts";

setDefaultTimeout(120_000);
afterEach(() => {
  cleanupApps();
  cleanupDocker();
});
afterAll(cleanupCliTemp);

const longVolume = () => createVolume(uniqueName("longvol").padEnd(255, "v"));

test("a service whose volume has a 255-character name is backed up and restored", () => {
  const vol = longVolume();
  fillVolume(vol, FILL);
  const container = app([vol]);
  const name = svcName("long");
  const s: Svc = { name, vol, container, p: makeProject({ services: { [name]: [{ name: vol, container }] } }) };
  const original = state(vol);
  const b = backupOk(s);
  fillVolume(vol, "echo added > added.txt && echo changed > modify.txt");

  const r = tb(s, ["restore", name, "--yes"]);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
  expect(r.stderr).toContain(b.id);
  expect(state(vol)).toEqual(original);
  expect(isRunning(container)).toBe(true);
  expect(fs.readdirSync(path.join(s.p.stateHome, "tools-backup", "locks", "volumes"))).toEqual([]);
});

test("while one service's backup holds a 255-character volume, another service sharing it is refused", async () => {
  const vol = longVolume();
  fillVolume(vol, FILL);
  // Ignores SIGTERM: its stop takes the whole timeout, with the lock held.
  const slow = runContainer(uniqueName("slowstop"), [vol], { init: false });
  const [a, b] = [svcName("one"), svcName("two")];
  const p = makeProject({ services: { [a]: [{ name: vol, container: slow }], [b]: [{ name: vol }] } });
  const locks = path.join(p.stateHome, "tools-backup", "locks", "volumes");
  const first = tbStart({ name: a, vol, p }, ["backup", a], { TOOLS_BACKUP_STOP_TIMEOUT: "4" });
  expect(await waitFor(() => fs.existsSync(locks) && fs.readdirSync(locks).length > 0, 60_000, 5)).toBe(true);
  const second = tb({ name: b, vol, p }, ["backup", b]);
  const overlapped = first.child.exitCode === null;
  const r1 = await first.done;

  expect(overlapped).toBe(true); // otherwise the refusal below proves nothing
  expect({ code: second.code, stderr: second.stderr }).toMatchObject({ code: 1 });
  expect(second.stderr).toContain(`its volume ${vol} is in use by pid ${first.child.pid}`);
  expect({ code: r1.code, stderr: r1.stderr }).toMatchObject({ code: 0 });
  expect(fs.readdirSync(locks)).toEqual([]);
});
