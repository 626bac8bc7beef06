/**
 * Archives and manifests that are empty, truncated, lying, of another service, or naming volumes
 * the service does not declare: restore refuses and nothing changes (volume, container, no
 * safety backup made). An unusable manifest makes the backup unlisted, so `--from` finds nothing:
 * exit 2; a listed backup that fails the checks: exit 1 (the documented contract for a bad archive).
 * Flipped bytes, truncated archives, hostile entries: restore-safety.test.ts.
 */
import { afterAll, afterEach, beforeEach, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { type Snapshot, snapshot } from "../helpers/archive.ts";
import { cleanupCliTemp, run } from "../helpers/cli.ts";
import {
  cleanupDocker,
  createVolume,
  fillVolume,
  leftoverHelpers,
  runContainer,
  uniqueName,
} from "../helpers/docker.ts";
import { containerInfo, expectClean, type Listed, listJson, svcName } from "../helpers/faults.ts";
import { createdAtOf, makeProject, type Project, readJson } from "../helpers/project.ts";

setDefaultTimeout(180_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

let svc: string, other: string, vol: string, otherVol: string, app: string, p: Project;
let good: Listed, foreign: Listed, before: Snapshot, started: string;

beforeEach(() => {
  [svc, other] = [svcName("bad"), svcName("other")];
  [vol, otherVol] = [createVolume(), createVolume()];
  fillVolume(vol, "echo mine > data.txt && mkdir sub && echo deep > sub/deep.txt");
  fillVolume(otherVol, "echo theirs > data.txt && echo more > more.txt");
  app = runContainer(uniqueName("app"), [vol]);
  p = makeProject({ services: { [svc]: [{ name: vol, container: app }], [other]: [{ name: otherVol }] } });
  for (const s of [svc, other]) expect(run(["backup", s, ...p.args], { stateHome: p.stateHome }).code).toBe(0);
  good = listJson(p, svc)[0]!;
  foreign = listJson(p, other)[0]!;
  fillVolume(vol, "echo changed since > data.txt");
  before = snapshot(vol);
  started = containerInfo(app).startedAt;
});

/** Writes an archive and a manifest (object, or raw text) under a new id of this service. */
function plant(stamp: string, archive: Buffer, manifest: ((id: string, file: string) => object) | string): string {
  const id = `${svc}_${stamp}_planted`;
  const file = `${id}.tar.zst`;
  const folder = p.serviceFolder(svc);
  fs.writeFileSync(path.join(folder, file), archive, { mode: 0o600 });
  const text = typeof manifest === "string" ? manifest : JSON.stringify(manifest(id, file), null, 2);
  fs.writeFileSync(path.join(folder, `${id}.json`), text, { mode: 0o600 });
  return id;
}
/** `base`'s manifest made to describe `archive` honestly (sha256, bytes) under a new id. */
const describe =
  (base: Listed, archive: Buffer, patch: object = {}) =>
  (id: string, file: string) => {
    const m = readJson(base.manifest);
    return {
      ...m,
      created_at: createdAtOf(id),
      ...patch,
      id,
      host: "planted",
      archive: { ...m.archive, file, bytes: archive.length, sha256: sha256Of(archive) },
    };
  };
const sha256Of = (b: Buffer) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

function refused(id: string, code: 1 | 2, says: RegExp): void {
  const r = run(["restore", svc, "--yes", "--from", id, ...p.args], { stateHome: p.stateHome });
  expectClean(r, code, says);
  if (code === 1) expect(r.stderr).toContain(id); // names the backup (its id or its file)
  expect(snapshot(vol)).toEqual(before);
  expect(containerInfo(app)).toMatchObject({ running: true, startedAt: started });
  expect(listJson(p, svc).filter((b) => b.kind === "pre-restore")).toEqual([]);
  expect(leftoverHelpers(svc)).toEqual([]);
}

const goodBytes = () => fs.readFileSync(good.file);
const notListed = /no backup of .* matches/;

test("an empty (0-byte) archive with its manifest: exit 1, size named", () => {
  refused(plant("20200101T000000Z", Buffer.alloc(0), describe(good, goodBytes(), {})), 1, /size is 0 bytes/);
});

test("an empty or truncated manifest: not listed (list names the file), --from finds nothing: exit 2", () => {
  const text = fs.readFileSync(good.manifest, "utf8");
  for (const [stamp, manifest] of [
    ["20200102T000000Z", ""],
    ["20200103T000000Z", text.slice(0, text.length >> 1)],
  ] as const) {
    const id = plant(stamp, goodBytes(), manifest);
    const list = run(["list", svc, ...p.args]);
    expect(list.code).toBe(0);
    expect(list.stderr).toContain(`${id}.json: not valid JSON`);
    refused(id, 2, notListed);
  }
});

test("a manifest of another service under this service's name: not listed, exit 2", () => {
  const id = plant("20200104T000000Z", fs.readFileSync(foreign.file), describe(foreign, fs.readFileSync(foreign.file)));
  expect(run(["list", svc, ...p.args]).stderr).toContain("manifest does not match its file name");
  refused(id, 2, notListed);
});

test("another service's archive behind an honest-looking manifest of this one: exit 1, entries outside the volume", () => {
  const bytes = fs.readFileSync(foreign.file);
  refused(plant("20200105T000000Z", bytes, describe(good, bytes)), 1, /outside the archive's volumes/);
});

test("a manifest naming a volume the service does not declare (archive consistent with it): exit 1", () => {
  const bytes = fs.readFileSync(foreign.file);
  refused(
    plant("20200106T000000Z", bytes, describe(foreign, bytes, { service: svc })),
    1,
    new RegExp(`holds volumes ${otherVol} but ${svc} declares ${vol}`),
  );
});

test("a manifest that lies about the content (one file more than the archive has): exit 1", () => {
  const bytes = goodBytes();
  const lie = describe(good, bytes);
  refused(
    plant("20200107T000000Z", bytes, (id, file) => {
      const m = lie(id, file) as { volumes: { files: number }[] };
      m.volumes[0]!.files += 1;
      return m;
    }),
    1,
    new RegExp(`volume ${vol}: \\d+ files`),
  );
});

test("a valid zstd stream that is not a tar, and a manifest with a date that is not one: exit 1 / exit 2", () => {
  const junk = zlib.zstdCompressSync(Buffer.from("this is not a tar archive at all\n".repeat(40)));
  refused(plant("20200108T000000Z", junk, describe(good, junk)), 1, /unreadable|tar|header/i);
  const badDate = plant("20200109T000000Z", goodBytes(), describe(good, goodBytes(), { created_at: "yesterday" }));
  refused(badDate, 2, notListed);
});
