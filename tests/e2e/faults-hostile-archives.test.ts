/**
 * Hostile archives a restore must refuse before any data is touched (exit 1, volume, container and
 * backups unchanged), with a manifest that matches them byte for byte. restore-safety.test.ts has
 * "..", absolute names, symlinks out, a setuid file and a char device; this adds hard links out
 * (written by hand: GNU tar will not), a volume folder that is a symlink, a block device (GNU tar,
 * mknod), setgid, a manifest pointing outside backup_dir, and setuid files and device nodes that
 * the service's own data had (restored) versus one more smuggled in (refused).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { extract, type Snapshot, sha256, snapshot } from "../helpers/archive.ts";
import { cleanupCliTemp, run, tempDir } from "../helpers/cli.ts";
import {
  cleanupDocker,
  createVolume,
  fillVolume,
  leftoverHelpers,
  runContainer,
  uniqueName,
} from "../helpers/docker.ts";
import { containerInfo, expectClean, type Listed, listJson, svcName } from "../helpers/faults.ts";
import { makeProject, type Project, readJson } from "../helpers/project.ts";
import { countsOf, plantBackup, type TarEntry, tarOf, zstd } from "../helpers/tar-craft.ts";

setDefaultTimeout(180_000);
afterAll(() => {
  cleanupDocker();
  cleanupCliTemp();
});

interface Svc {
  svc: string;
  vol: string;
  app: string;
  p: Project;
  good: Listed;
  before: Snapshot;
  started: string;
}

function withBackup(fill: string): Svc {
  const svc = svcName("hostile");
  const vol = createVolume();
  fillVolume(vol, fill);
  const app = runContainer(uniqueName("app"), [vol]);
  const p = makeProject({ services: { [svc]: [{ name: vol, container: app }] } });
  expect(run(["backup", svc, ...p.args], { stateHome: p.stateHome }).code).toBe(0);
  const [good] = listJson(p, svc);
  fillVolume(vol, "echo changed since > changed.txt");
  return { svc, vol, app, p, good: good!, before: snapshot(vol), started: containerInfo(app).startedAt };
}

function expectRefused(s: Svc, id: string, reason: RegExp, code = 1): void {
  const r = run(["restore", s.svc, "--yes", "--from", id, ...s.p.args], { stateHome: s.p.stateHome });
  expectClean(r, code, reason);
  expect(snapshot(s.vol)).toEqual(s.before);
  expect(containerInfo(s.app)).toMatchObject({ running: true, startedAt: s.started });
  expect(listJson(s.p, s.svc).filter((b) => b.kind === "pre-restore")).toEqual([]);
  expect(leftoverHelpers(s.svc)).toEqual([]);
}

describe("crafted by hand", () => {
  let s: Svc;
  beforeAll(() => {
    s = withBackup("echo ok > ok.txt");
  });
  const cases: [string, (v: string) => TarEntry[], RegExp][] = [
    [
      "hard link to /etc/passwd",
      (v) => [{ name: `${v}/pw`, type: "hardlink", linkname: "/etc/passwd" }],
      /hard ?link to "\/etc\/passwd", outside volume/,
    ],
    [
      "hard link climbing out with ..",
      (v) => [{ name: `${v}/sh`, type: "hardlink", linkname: `${v}/../../etc/shadow` }],
      /outside volume/,
    ],
    [
      "hard link to a top-level name beside the volume",
      (v) => [{ name: `${v}/pw`, type: "hardlink", linkname: "etc/passwd" }],
      /outside volume/,
    ],
    [
      "the volume folder itself a symlink to /",
      (v) => [{ name: v, type: "symlink", linkname: "/" }],
      /replaces a volume folder/,
    ],
    ["a setgid file", (v) => [{ name: `${v}/sg`, mode: 0o2755, content: "#!/bin/sh\n" }], /setuid\/setgid/],
    [
      "a FIFO (harmless) then a block device",
      (v) => [
        { name: `${v}/p`, type: "fifo" },
        { name: `${v}/sda`, type: "block", major: 8, minor: 0 },
      ],
      /device node/,
    ],
  ];
  cases.forEach(([label, hostile, reason], i) => {
    test(label, () => {
      const entries: TarEntry[] = [
        { name: `${s.vol}/`, type: "dir" },
        { name: `${s.vol}/ok.txt`, content: "ok\n" },
        ...hostile(s.vol),
      ];
      const counts = countsOf(entries).get(s.vol) ?? { files: 0, bytes: 0 };
      const id = plantBackup(
        s.p.serviceFolder(s.svc),
        s.svc,
        s.good.manifest,
        `2020010${i + 1}T000000Z`,
        zstd(tarOf(entries)),
        { [s.vol]: counts },
      );
      expect(listJson(s.p, s.svc).map((b) => b.id)).toContain(id);
      expectRefused(s, id, reason);
    });
  });

  test("a block device in an archive GNU tar made from a host folder (mknod b 7 0)", () => {
    const work = tempDir("tbtest-craft-");
    const out = path.join(work, "out.tar.zst");
    fs.mkdirSync(path.join(work, s.vol));
    fs.writeFileSync(path.join(work, s.vol, "ok.txt"), "ok\n");
    const sh = spawnSync(
      "sh",
      ["-c", `mknod "$1/loop" b 7 0 && tar --zstd -cf "$2" "$3"`, "sh", path.join(work, s.vol), out, s.vol],
      { cwd: work, encoding: "utf8" },
    );
    expect(sh.stderr).toBe("");
    const id = plantBackup(s.p.serviceFolder(s.svc), s.svc, s.good.manifest, "20200201T000000Z", fs.readFileSync(out), {
      [s.vol]: { files: 1, bytes: 3 },
    });
    expectRefused(s, id, /device node/);
  });

  test("a manifest whose archive.file points outside backup_dir: never listed, never read, exit 2", () => {
    const folder = s.p.serviceFolder(s.svc);
    const id = `${s.svc}_20200301T000000Z_crafted`;
    const m = readJson(s.good.manifest);
    const outside = "../../../../../../etc/passwd";
    Object.assign(m, {
      id,
      archive: { ...m.archive, file: outside, bytes: fs.statSync("/etc/passwd").size, sha256: sha256("/etc/passwd") },
    });
    fs.writeFileSync(path.join(folder, `${id}.json`), JSON.stringify(m));
    const list = run(["list", s.svc, "--json", ...s.p.args]);
    expect(JSON.parse(list.stdout).map((b: Listed) => b.id)).not.toContain(id);
    expect(list.stderr).toContain("does not match its file name");
    expect(run(["verify", s.svc, ...s.p.args]).stderr).not.toContain("/etc/passwd");
    expectRefused(s, id, /no backup of .* matches/, 2);
    fs.rmSync(path.join(folder, `${id}.json`));
  });
});

test("setuid files and device nodes the data really had are restored; one more smuggled in is refused", () => {
  const s = withBackup(
    "echo x > tool && chmod 4755 tool && mknod null c 1 3 && mkdir shared && chmod 2775 shared && echo data > data.txt",
  );
  expect(readJson(s.good.manifest).volumes[0]).toMatchObject({ setuid: 1, devices: 1 });
  const r = run(["restore", s.svc, "--yes", "--no-safety-backup", ...s.p.args], { stateHome: s.p.stateHome });
  expectClean(r, 0);
  const restored = snapshot(s.vol);
  const byPath = Object.fromEntries(restored.entries.map((e) => [e.path, e]));
  expect(byPath["./tool"]).toMatchObject({ mode: "4755", type: "regular file" });
  expect(byPath["./null"]!.type).toBe("character special file");
  expect(byPath["./shared"]).toMatchObject({ mode: "2775", type: "directory" });

  const smuggle = (stamp: string, script: string, extra: object) => {
    const dir = extract(s.good.file, "zstd");
    const out = path.join(dir, "out.tar.zst");
    const sh = spawnSync("sh", ["-c", `${script} && tar --zstd -cf "$2" "$1"`, "sh", s.vol, out], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(sh.stderr).toBe("");
    const base = readJson(s.good.manifest).volumes[0];
    return plantBackup(s.p.serviceFolder(s.svc), s.svc, s.good.manifest, stamp, fs.readFileSync(out), {
      [s.vol]: { ...base, ...extra },
    });
  };
  const fresh = { ...s, before: restored, started: containerInfo(s.app).startedAt };
  const base = readJson(s.good.manifest).volumes[0];
  // setuid count left at 1 although the archive now has 2; files and bytes updated so only that differs.
  expectRefused(
    fresh,
    smuggle("20200401T000000Z", `printf 'evil' > "$1/tool2" && chmod 4755 "$1/tool2"`, {
      files: base.files + 1,
      bytes: base.bytes + 4,
    }),
    /setuid/,
  );
  expectRefused(fresh, smuggle("20200402T000000Z", `mknod "$1/mem" c 1 1`, {}), /device node/);
});
