/**
 * Reading volumes from their folder on this host instead of through the engine: the archive
 * must hold the very bytes `docker cp` streams, and a folder that might not be the engine's
 * (a volume mounted only while in use, a different mount namespace) must never be read.
 */
import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { BIN, binaryEnv, cleanupCliTemp, run, tempDir } from "../helpers/cli.ts";
import { cleanupDocker, createVolume, dockerOk, fillVolume, uniqueName } from "../helpers/docker.ts";
import { extract } from "../helpers/archive.ts";
import { makeProject, readJson } from "../helpers/project.ts";

setDefaultTimeout(120_000);
afterEach(cleanupDocker);
afterAll(cleanupCliTemp);

/** What ustar cannot hold (PAX records), what it holds only split, and what a volume rarely has. */
const ODD_TREE = `set -e
L=$(printf '%0120d' 7)
mkdir -p "long/$L/$L" empty 'ünïcode dïr'
echo long > "long/$L/$L/$L-name-longer-than-100-bytes.txt"
echo inner > 'ünïcode dïr/日本語.txt'
ln -s "long/$L/$L/$L-name-longer-than-100-bytes.txt" long-target-link
ln -s 'ünïcode dïr/日本語.txt' unicode-target-link
echo big-ids > big-ids && chown 3000000:3000001 big-ids
echo shared > hard1 && ln hard1 hard2 && ln -s hard1 soft && ln soft soft-hard
echo s > setuid && chmod 4755 setuid
printf 'x' > "$(printf 'latin1-\\351')"
mknod null-dev c 1 3 && mkfifo fifo
dd if=/dev/urandom of=big.bin bs=1M count=9 2>/dev/null
touch -d '1960-05-06 07:08:09' before-1970
`;

/** A valid security.capability value (v2, cap_net_raw permitted and effective), set from the host. */
function setCapability(file: string): void {
  const { dlopen, FFIType } = require("bun:ffi") as typeof import("bun:ffi");
  const libc = dlopen("libc.so.6", { lsetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 } });
  const value = Buffer.alloc(20);
  value.writeUInt32LE(0x02000001, 0);
  value.writeUInt32LE(1 << 13, 4);
  const rc = libc.symbols.lsetxattr(Buffer.from(`${file}\0`), Buffer.from("security.capability\0"), value, value.length, 0);
  if (rc !== 0) throw new Error(`lsetxattr ${file} failed`);
}

const mountpoint = (volume: string) => dockerOk(["volume", "inspect", "--format", "{{.Mountpoint}}", volume]).trim();

/** The tar `docker cp` prints for the volume, mounted as the backup's helper mounts it. */
function engineTar(volume: string): Buffer {
  const helper = uniqueName("cp");
  dockerOk(["create", "--name", helper, "-v", `${volume}:/v/${volume}:ro`, "busybox:stable", "true"]);
  try {
    const r = spawnSync("docker", ["cp", `${helper}:/v/${volume}`, "-"], { maxBuffer: 256 << 20 });
    if (r.status !== 0) throw new Error(`docker cp failed: ${r.stderr}`);
    return r.stdout;
  } finally {
    dockerOk(["rm", helper]);
  }
}

function backUp(volume: string, env: Record<string, string> = {}) {
  const svc = uniqueName("svc").replace(/-/g, "");
  const p = makeProject({ services: { [svc]: [{ name: volume }] } });
  const r = run(["backup", svc, "--json", ...p.args], { stateHome: p.stateHome, env });
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.code).toBe(0);
  const folder = p.serviceFolder(svc);
  const manifest = readJson(path.join(folder, fs.readdirSync(folder).find((n) => n.endsWith(".json"))!));
  const archive = path.join(folder, manifest.archive.file);
  const tar = spawnSync("zstd", ["-dc", archive], { maxBuffer: 256 << 20 }).stdout;
  return { manifest, archive, tar };
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("reading a volume from its folder", () => {
  test("gives the very bytes the engine streams: PAX names and ids, links, devices, capabilities", () => {
    const vol = createVolume();
    fillVolume(vol, ODD_TREE);
    setCapability(path.join(mountpoint(vol), "setuid"));
    const expected = engineTar(vol);
    // The engine's own stream carries what we made, so the comparison below compares something.
    expect(expected.includes("SCHILY.xattr.security.capability")).toBe(true);
    expect(expected.includes("uid=3000000")).toBe(true);

    const folder = backUp(vol);
    expect(folder.manifest.volumes[0].read_from).toBe("folder");
    expect(folder.tar.length).toBe(expected.length);
    expect(sha(folder.tar)).toBe(sha(expected));

    const engine = backUp(vol, { TOOLS_BACKUP_READ: "engine" });
    expect(engine.manifest.volumes[0].read_from).toBe("engine");
    expect(sha(engine.tar)).toBe(sha(expected));
  });

  test("a local volume with mount options (a bind) is read through the engine, with its data", () => {
    const source = tempDir("tbtest-bind-");
    fs.writeFileSync(path.join(source, "data.txt"), "bound data\n");
    const vol = uniqueName("vol");
    createVolume(vol, ["--opt", "type=none", "--opt", "o=bind", "--opt", `device=${source}`]);
    const { manifest, archive } = backUp(vol);
    expect(manifest.volumes[0].read_from).toBe("engine");
    expect(fs.readFileSync(path.join(extract(archive, "zstd"), vol, "data.txt"), "utf8")).toBe("bound data\n");
  });

  test("a folder that is not the engine's is never read: another mount namespace shows a decoy there", () => {
    const vol = createVolume();
    fillVolume(vol, "echo real > real.txt");
    const svc = uniqueName("svc").replace(/-/g, "");
    const p = makeProject({ services: { [svc]: [{ name: vol }] } });
    // Our process sees a tmpfs over the volume's folder; the engine still sees the volume.
    const script = 'mount -t tmpfs decoy "$1" && echo decoy > "$1/decoy.txt" && shift && exec "$@"';
    const r = spawnSync("unshare", ["-m", "--propagation", "private", "sh", "-c", script, "sh", mountpoint(vol), BIN, "backup", svc, ...p.args], {
      env: binaryEnv({ stateHome: p.stateHome }), encoding: "utf8",
    });
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.status).toBe(0);
    const folder = p.serviceFolder(svc);
    const manifest = readJson(path.join(folder, fs.readdirSync(folder).find((n) => n.endsWith(".json"))!));
    expect(manifest.volumes[0].read_from).toBe("engine");
    expect(fs.readdirSync(path.join(extract(path.join(folder, manifest.archive.file), "zstd"), vol))).toEqual(["real.txt"]);
  });
});
