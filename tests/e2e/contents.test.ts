/**
 * Looking into a backup without tar or zstd: `list --contents ID [PATH]` shows its files, and
 * `restore SERVICE --from ID --file PATH --to DIR` takes one file or folder out into a host
 * folder, never touching the volume or its containers. Hostile archives cannot write outside DIR.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { type Snapshot, snapshot } from "../helpers/archive.ts";
import { cleanupCliTemp, tempDir } from "../helpers/cli.ts";
import { cleanupDocker, type Entry, listing } from "../helpers/docker.ts";
import { containerInfo, expectClean } from "../helpers/faults.ts";
import { backupOk, cleanupApps, type Listed, listed, type Svc, service, tb } from "../helpers/restore-kit.ts";
import { countsOf, plantBackup, type TarEntry, tarOf, zstd } from "../helpers/tar-craft.ts";

setDefaultTimeout(180_000);
afterAll(() => {
  cleanupApps();
  cleanupDocker();
  cleanupCliTemp();
});

const DEEP_MTIME = Date.UTC(2021, 2, 4, 5, 6, 7) / 1000;
const FILL = `set -e
mkdir -p sub/inner
echo top > top.txt
printf 'deep content\\n' > sub/deep.txt
chmod 0640 sub/deep.txt
touch -d '2021-03-04 05:06:07' sub/deep.txt
printf 'inner\\n' > sub/inner/x.txt
chown 1234:99 sub/inner/x.txt && chmod 0604 sub/inner/x.txt
ln -s deep.txt sub/link
chmod 0750 sub/inner
`;

interface Item {
  path: string;
  type: string;
  size: number;
  mode: string;
  uid: number;
  gid: number;
  mtime: string;
  link?: string;
}

let s: Svc;
let b: Listed;
let before: Snapshot;
let started: ReturnType<typeof containerInfo>;
let volume: Entry[];

beforeAll(() => {
  s = service({ fill: FILL, what: "ct" });
  b = backupOk(s);
  before = snapshot(s.vol);
  started = containerInfo(s.container!);
  volume = listing(s.vol);
});

/** The volume and its container exactly as before, and no safety backup made. */
function expectUntouched(): void {
  expect(snapshot(s.vol)).toEqual(before);
  expect(containerInfo(s.container!)).toEqual(started);
  expect(listed(s).filter((x) => x.kind === "pre-restore")).toEqual([]);
}

const inVolume = (p: string) => volume.find((e) => e.path === `./${p}`)!;

describe("list --contents", () => {
  test("every file with size, mode, owner and mtime as the volume holds them", () => {
    const r = tb(s, ["list", "--contents", b.id, "--json"]);
    expect(r.code).toBe(0);
    const items = JSON.parse(r.stdout) as Item[];
    const files = volume.filter((e) => e.type === "regular file");
    expect(files.length).toBe(3);
    for (const f of files) {
      const item = items.find((i) => i.path === `${s.vol}/${f.path.slice(2)}`);
      const [uid, gid] = f.owner.split(":").map(Number);
      expect(item).toMatchObject({ type: "file", size: f.size, uid, gid });
      const got = { mode: parseInt(item!.mode, 8), mtime: Date.parse(item!.mtime) / 1000 };
      expect(got).toEqual({ mode: parseInt(f.mode, 8), mtime: f.mtime });
    }
    expect(items.find((i) => i.path === `${s.vol}/sub/link`)).toMatchObject({ type: "symlink", link: "deep.txt" });
    expect(items.find((i) => i.path === `${s.vol}/sub/inner`)).toMatchObject({ type: "directory", mode: "0750" });
    expectUntouched();
  });

  test("the table: MODE OWNER SIZE MTIME PATH", () => {
    const r = tb(s, ["list", "--contents", b.id]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^MODE\s+OWNER\s+SIZE\s+MTIME\s+PATH$/);
    const row = (re: string) => expect(lines).toContainEqual(expect.stringMatching(new RegExp(re)));
    row(`^-rw----r--\\s+1234:99\\s+6\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+${s.vol}/sub/inner/x\\.txt$`);
    row(`^-rw-r-----\\s+0:0\\s+13\\s+.*\\s${s.vol}/sub/deep\\.txt$`);
    row(`^lrwxrwxrwx\\s.*\\s${s.vol}/sub/link -> deep\\.txt$`);
  });

  test("PATH shows only what lies under it; a path not in the backup exits 1", () => {
    const r = tb(s, ["list", "--contents", b.id, `${s.vol}/sub/`, "--json"]);
    expect(r.code).toBe(0);
    const paths = (JSON.parse(r.stdout) as Item[]).map((i) => i.path).sort();
    const expected = ["sub", "sub/deep.txt", "sub/inner", "sub/inner/x.txt", "sub/link"];
    expect(paths).toEqual(expected.map((p) => `${s.vol}/${p}`));
    expectClean(tb(s, ["list", "--contents", b.id, `${s.vol}/su`]), 1, `holds nothing at ${s.vol}/su`);
  });
});

describe("restore --file --to", () => {
  test("one file: content, mode and mtime, into a folder it creates (0700); no --yes, no terminal", () => {
    const to = path.join(tempDir("tbtest-out-"), "new", "folder");
    const r = tb(s, ["restore", s.name, "--from", b.id, "--file", `${s.vol}/sub/deep.txt`, "--to", to]);
    expect(r.code).toBe(0);
    expect(fs.readdirSync(to)).toEqual(["deep.txt"]);
    const file = path.join(to, "deep.txt");
    expect(fs.readFileSync(file, "utf8")).toBe("deep content\n");
    const st = fs.statSync(file);
    const got = { mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000) };
    expect(got).toEqual({ mode: 0o640, mtime: DEEP_MTIME });
    expect(fs.statSync(to).mode & 0o777).toBe(0o700);
    expectUntouched();
  });

  test("a folder: its files, folders, owners (as root), modes and symlinks", () => {
    const to = tempDir("tbtest-out-");
    expect(tb(s, ["restore", s.name, "--from", b.id, "--file", `${s.vol}/sub`, "--to", to]).code).toBe(0);
    const sub = path.join(to, "sub");
    expect(fs.readFileSync(path.join(sub, "inner", "x.txt"), "utf8")).toBe("inner\n");
    const x = fs.statSync(path.join(sub, "inner", "x.txt"));
    expect({ uid: x.uid, gid: x.gid, mode: x.mode & 0o7777 }).toEqual({ uid: 1234, gid: 99, mode: 0o604 });
    expect(fs.statSync(path.join(sub, "inner")).mode & 0o7777).toBe(0o750);
    expect(fs.readlinkSync(path.join(sub, "link"))).toBe("deep.txt");
    expect(fs.readFileSync(path.join(sub, "link"), "utf8")).toBe("deep content\n");
    expect(Math.floor(fs.statSync(path.join(sub, "deep.txt")).mtimeMs / 1000)).toBe(DEEP_MTIME);
    expect(Math.floor(fs.statSync(sub).mtimeMs / 1000)).toBe(inVolume("sub").mtime);
    expect(fs.existsSync(path.join(to, "top.txt"))).toBe(false);
    expectUntouched();
  });

  test("a path not in the backup exits 1 and leaves nothing behind", () => {
    const to = tempDir("tbtest-out-");
    const take = (file: string) => tb(s, ["restore", s.name, "--from", b.id, "--file", file, "--to", to]);
    expectClean(take(`${s.vol}/sub/nope.txt`), 1, `holds nothing at ${s.vol}/sub/nope.txt`);
    expectClean(take("othervolume/x"), 1, "holds nothing at othervolume/x");
    expect(fs.readdirSync(to)).toEqual([]);
  });

  test("--to that already holds the name is refused: nothing of the user's is overwritten", () => {
    const to = tempDir("tbtest-out-");
    fs.writeFileSync(path.join(to, "deep.txt"), "mine\n");
    const r = tb(s, ["restore", s.name, "--from", b.id, "--file", `${s.vol}/sub/deep.txt`, "--to", to]);
    expectClean(r, 1, /deep\.txt already exists; nothing of yours is overwritten/);
    expect(fs.readFileSync(path.join(to, "deep.txt"), "utf8")).toBe("mine\n");
  });

  test("--file without --to, or --to without --file, is a usage error", () => {
    expectClean(tb(s, ["restore", s.name, "--file", `${s.vol}/top.txt`]), 2, "--file PATH and --to DIR go together");
    expectClean(tb(s, ["restore", s.name, "--to", tempDir("tbtest-out-")]), 2, "--file PATH and --to DIR go together");
  });

  test("an archive whose sha256 differs from its manifest: exit 1, what was written is removed", () => {
    const archive = fs.readFileSync(b.file);
    const id = plantBackup(s.p.serviceFolder(s.name), s.name, b.manifest, "20200101T000000Z", archive, {});
    const manifest = path.join(s.p.serviceFolder(s.name), `${id}.json`);
    const wrong = fs.readFileSync(manifest, "utf8").replace(/"sha256": "[0-9a-f]+"/, `"sha256": "${"0".repeat(64)}"`);
    fs.writeFileSync(manifest, wrong);
    const to = tempDir("tbtest-out-");
    const r = tb(s, ["restore", s.name, "--from", id, "--file", `${s.vol}/sub`, "--to", to]);
    expectClean(r, 1, /sha256 is [0-9a-f]{64}, the manifest says 0{64}/);
    expect(fs.readdirSync(to)).toEqual([]);
    fs.rmSync(manifest);
  });
});

describe("hostile archives cannot write outside --to", () => {
  const plant = (stamp: string, entries: TarEntry[], extra: object = {}) => {
    const counts = countsOf(entries).get(s.vol) ?? { files: 0, bytes: 0 };
    const volumes = { [s.vol]: { ...counts, ...extra } };
    return plantBackup(s.p.serviceFolder(s.name), s.name, b.manifest, stamp, zstd(tarOf(entries)), volumes);
  };

  test("a file written through a symlink pointing out of the folder", () => {
    const outside = tempDir("tbtest-outside-");
    const id = plant(
      "20200102T000000Z",
      [
        { name: `${s.vol}/`, type: "dir" },
        { name: `${s.vol}/evil/`, type: "dir" },
        { name: `${s.vol}/evil/out`, type: "symlink", linkname: outside },
        { name: `${s.vol}/evil/out/pwned.txt`, content: "pwned\n" },
      ],
      { links_out: 1 },
    );
    const to = tempDir("tbtest-out-");
    const r = tb(s, ["restore", s.name, "--from", id, "--file", `${s.vol}/evil`, "--to", to]);
    expectClean(r, 1, /would be written through the symlink/);
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(fs.readdirSync(to)).toEqual([]);
  });

  test("a hard link to a file outside the chosen folder", () => {
    const id = plant("20200103T000000Z", [
      { name: `${s.vol}/`, type: "dir" },
      { name: `${s.vol}/secret.txt`, content: "secret\n" },
      { name: `${s.vol}/evil/`, type: "dir" },
      { name: `${s.vol}/evil/pw`, type: "hardlink", linkname: `${s.vol}/secret.txt` },
    ]);
    const to = tempDir("tbtest-out-");
    const r = tb(s, ["restore", s.name, "--from", id, "--file", `${s.vol}/evil`, "--to", to]);
    expectClean(r, 1, /hard link to .*secret\.txt", which lies outside/);
    expect(fs.readdirSync(to)).toEqual([]);
  });

  test('a name climbing out with ".."', () => {
    const outside = tempDir("tbtest-outside-");
    const id = plant("20200104T000000Z", [
      { name: `${s.vol}/`, type: "dir" },
      { name: `${s.vol}/evil/`, type: "dir" },
      { name: `${s.vol}/evil/../../../..${outside}/pwned.txt`, content: "pwned\n" },
    ]);
    const to = tempDir("tbtest-out-");
    expectClean(tb(s, ["restore", s.name, "--from", id, "--file", `${s.vol}/evil`, "--to", to]), 1, /"\.\."/);
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(fs.readdirSync(to)).toEqual([]);
    expectUntouched();
  });
});
