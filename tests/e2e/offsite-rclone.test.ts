/**
 * Offsite copies to rclone remotes against real servers on loopback: `rclone serve webdav`,
 * `rclone serve sftp` and a real OpenSSH sshd (key login, SFTP only). A backup uploads its archive
 * and manifest, byte-identical on the server's side; `list` and `verify --offsite` see them; a new
 * machine with only backup.yaml, rclone.conf and services/ restores into a volume it lacks.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { alive } from "../helpers/alive.ts";
import { checksums, createVolume, docker, fillVolume, volumeExists } from "../helpers/docker.ts";
import { filesIn, localBackups, makeProject } from "../helpers/project.ts";
import {
  confFor,
  type RemoteKind,
  rcloneEntry,
  runIn,
  sha256,
  startRemote,
  useRemotes,
} from "../helpers/rclone-kit.ts";
import { accepting, filesUnder, startRcloneServer } from "../helpers/rclone-remote.ts";
import { FILL, svcName } from "../helpers/restore-kit.ts";
import { startSshd } from "../helpers/sshd.ts";

setDefaultTimeout(170_000);

const remotes = useRemotes();

const CONTENT = `${FILL}dd if=/dev/urandom of=random.bin bs=64k count=24 2>/dev/null\n`;
const COPY = "nas";
const REMOTE = "box";

describe.each(["webdav", "serve-sftp", "sshd"] as RemoteKind[])("rclone remote over %s", (kind) => {
  test("backup uploads byte-identical files; list, verify and a new machine's restore use them", async () => {
    const remote = await startRemote(kind);
    remotes.push(remote);
    const service = svcName("rc");
    const volume = createVolume();
    fillVolume(volume, CONTENT);
    const data = checksums(volume);
    const folder = `tb/${service}-copies`;

    const p = makeProject({ services: { [service]: [{ name: volume }] } });
    const conf = confFor(p, { [REMOTE]: remote.section() });
    p.writeConfig({ services: { [service]: true }, offsite: [rcloneEntry(COPY, REMOTE, folder, conf)] });
    const tb = (args: string[]) => runIn(p, remote.secrets, args);

    const backedUp = await tb(["backup", service]);
    expect(backedUp.code).toBe(0);
    const [local] = localBackups(p, service);
    expect(backedUp.stderr).toContain(`${COPY}: uploaded ${local!.id}`);

    // What the server holds: exactly the archive and the manifest, byte for byte, no temporary file.
    const served = path.join(remote.dir, folder);
    const names = [path.basename(local!.archive), path.basename(local!.manifest)];
    expect(filesUnder(served)).toEqual(names.map((n) => `${service}/${n}`).sort());
    expect(sha256(path.join(served, service, names[0]!))).toBe(sha256(local!.archive));
    expect(sha256(path.join(served, service, names[1]!))).toBe(sha256(local!.manifest));

    const listed = await tb(["list", service]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${local!.id} .* local,${COPY}\\s*$`, "m"));
    const json = await tb(["list", service, "--json"]);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ id: local!.id, locations: ["local", COPY] })]);

    const verified = await tb(["verify", service, "--offsite", COPY]);
    expect(verified.code).toBe(0);

    // A new machine: services/, backup.yaml and the same rclone.conf; backup_dir empty, no volume yet.
    const q = makeProject({ services: { [service]: [{ name: volume }] } });
    fs.copyFileSync(conf, path.join(q.root, "rclone.conf"));
    fs.chmodSync(path.join(q.root, "rclone.conf"), 0o600);
    const qConf = path.join(q.root, "rclone.conf");
    q.writeConfig({ services: { [service]: true }, offsite: [rcloneEntry(COPY, REMOTE, folder, qConf)] });
    docker(["volume", "rm", volume]); // the name stays recorded for cleanupDocker
    expect(volumeExists(volume)).toBe(false);
    expect(filesIn(q.serviceFolder(service))).toEqual([]);

    const there = await runIn(q, remote.secrets, ["list", service]);
    expect(there.stdout).toMatch(new RegExp(`^${local!.id} .* ${COPY}\\s*$`, "m"));
    const restored = await runIn(q, remote.secrets, ["restore", service, "--yes"]);
    expect(restored.code).toBe(0);
    expect(restored.stderr).toContain(`${COPY}: fetched ${local!.id}`);
    expect(volumeExists(volume)).toBe(true);
    expect(checksums(volume)).toEqual(data);
    expect(sha256(path.join(q.serviceFolder(service), names[0]!))).toBe(sha256(local!.archive));

    // Nothing temporary was left behind anywhere on the server.
    expect(filesUnder(remote.dir).filter((f) => path.basename(f).startsWith(".tmp-"))).toEqual([]);
    expect(filesUnder(served)).toEqual(names.map((n) => `${service}/${n}`).sort());
  });
});

test("the test servers leave no process: stop ends rclone serve and sshd, a kill then a start reuses the port", async () => {
  const dav = await startRcloneServer("webdav");
  const first = dav.pid;
  await dav.kill();
  expect(alive(first)).toBe(false);
  expect(await accepting(dav.port)).toBe(false);
  await dav.start();
  expect(dav.pid).not.toBe(first);
  expect(await accepting(dav.port)).toBe(true);
  const sshd = await startSshd();
  const pids = [dav.pid, sshd.pid];
  expect(pids.every(alive)).toBe(true);
  await dav.stop();
  await sshd.stop();
  expect(pids.filter(alive)).toEqual([]);
  expect(fs.existsSync(dav.dir)).toBe(false);
  expect(fs.existsSync(sshd.dir)).toBe(false);
});
