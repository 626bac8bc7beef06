/** What list and verify make of a backup_dir that is empty, missing, or damaged by hand or by a sync client. */
import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, run } from "../helpers/cli.ts";
import { cleanupDocker, createVolume, fillVolume, uniqueName } from "../helpers/docker.ts";
import { filesIn, makeProject } from "../helpers/project.ts";

setDefaultTimeout(120_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

test("no backup_dir yet: list, verify, prune and services succeed with nothing to show", () => {
  const p = makeProject({ services: { alpha: [{ name: uniqueName("v") }] } });
  fs.rmdirSync(p.backupDir);
  const list = run(["list", "--json", ...p.args]);
  expect(list.code).toBe(0);
  expect(JSON.parse(list.stdout)).toEqual([]);
  expect(run(["verify", ...p.args]).code).toBe(0);
  const prune = run(["prune", "--json", ...p.args]);
  expect(prune.code).toBe(0);
  expect(JSON.parse(prune.stdout)).toMatchObject({ removed: [], kept: [] });
  const services = run(["services", "--json", ...p.args]);
  expect(services.code).toBe(0);
  expect(JSON.parse(services.stdout)[0]).toMatchObject({ name: "alpha", newest: null, volumes: [{ exists: false }] });
});

test("damaged backups: each is named by verify (exit 1); list marks or skips them and still exits 0", () => {
  const svc = uniqueName("dmg").replace(/-/g, "");
  const vol = createVolume();
  fillVolume(vol, "echo a > a && dd if=/dev/urandom of=b bs=1k count=64 2>/dev/null");
  const p = makeProject({ services: { [svc]: [{ name: vol }] } });
  for (let i = 0; i < 4; i++) expect(run(["backup", svc, ...p.args], { stateHome: p.stateHome }).code).toBe(0);
  const folder = p.serviceFolder(svc);
  const ids = filesIn(folder).filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -5)).sort();
  expect(ids).toHaveLength(4);
  const [badJson, noArchive, grown, good] = ids as [string, string, string, string];
  const at = (id: string, ext: string) => path.join(folder, id + ext);
  fs.writeFileSync(at(badJson, ".json"), "{broken");
  fs.rmSync(at(noArchive, ".tar.zst"));
  fs.appendFileSync(at(grown, ".tar.zst"), "still downloading");

  const list = run(["list", "--json", ...p.args]);
  expect(list.code).toBe(0);
  const rows = JSON.parse(list.stdout);
  expect(rows.map((b: { id: string }) => b.id).sort()).toEqual([grown, good].sort());
  expect(rows.find((b: { id: string }) => b.id === grown).complete).toBe(false);
  expect(rows.find((b: { id: string }) => b.id === good).complete).toBe(true);
  expect(list.stderr).toContain(at(badJson, ".json"));
  expect(list.stderr).toContain(at(noArchive, ".json"));
  expect(run(["list", ...p.args]).stdout).toContain("incomplete");

  const verify = run(["verify", ...p.args]);
  expect(verify.code).toBe(1);
  for (const f of [at(badJson, ".json"), at(noArchive, ".json"), at(grown, ".tar.zst")]) expect(verify.stderr).toContain(f);
  expect(verify.stderr).not.toContain(`${at(good, ".tar.zst")}:`);
  expect(verify.stderr).toMatch(/3 backups failed verification/);
  expect(verify.stderr).not.toMatch(/^\s+at /m);

  expect(run(["verify", "--from", good, ...p.args]).code).toBe(0);
  const unknown = run(["verify", "--from", `${svc}_20000101T000000Z_nohost`, ...p.args]);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("no backup with id");
});
