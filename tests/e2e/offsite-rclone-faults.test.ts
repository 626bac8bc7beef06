/**
 * rclone offsite copies when things go wrong, against real servers on loopback: the server killed
 * mid-upload (nothing partial listed, the next run completes it and removes the journaled temporary
 * file), a read-only target, a wrong password, rclone missing from PATH, a remote rclone.conf lacks,
 * and two hosts sharing one remote folder (each prunes its own; one restores the other's backup).
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { start, tempDir, waitFor } from "../helpers/cli.ts";
import {
  checksums,
  createVolume,
  docker,
  fillVolume,
  isRunning,
  runContainer,
  startedAt,
  uniqueName,
  volumeExists,
} from "../helpers/docker.ts";
import { journaledUploads } from "../helpers/offsite-case.ts";
import { filesIn, localBackups, makeProject, type Project, redateBackup } from "../helpers/project.ts";
import {
  confFor,
  type Remote,
  type RemoteKind,
  rcloneEntry,
  runIn,
  sha256,
  startRemote,
  useRemotes,
} from "../helpers/rclone-kit.ts";
import { filesUnder, obscure } from "../helpers/rclone-remote.ts";
import { FAST, FILL, svcName } from "../helpers/restore-kit.ts";

setDefaultTimeout(170_000);

const remotes = useRemotes();

const COPY = "nas";
const REMOTE = "box";

async function remoteOf(kind: RemoteKind, opts: { readOnly?: boolean } = {}): Promise<Remote> {
  const r = await startRemote(kind, opts);
  remotes.push(r);
  return r;
}

/** One service: a volume of `mib` MiB of random bytes, a running container on it, one rclone copy. */
interface Case {
  svc: string;
  volume: string;
  container: string;
  p: Project;
  folder: string;
  conf: string;
}

function newCase(remote: Remote, mib: number, section = remote.section()): Case {
  const svc = svcName("rf");
  const volume = createVolume();
  fillVolume(volume, `dd if=/dev/urandom of=blob.bin bs=1M count=${mib} 2>/dev/null`);
  const container = runContainer(uniqueName("ctr"), [volume]);
  const p = makeProject({ services: { [svc]: [{ name: volume, container }] } });
  const folder = `tb/${svc}`;
  const conf = confFor(p, { [REMOTE]: section });
  p.writeConfig({ services: { [svc]: true }, offsite: [rcloneEntry(COPY, REMOTE, folder, conf)] });
  return { svc, volume, container, p, folder, conf };
}

const tempFiles = (dir: string) => filesUnder(dir).filter((f) => path.basename(f).startsWith(".tmp-"));

/** What `list --offsite COPY --json` shows of the service. */
async function listedOffsite(c: Case, remote: Remote): Promise<string[]> {
  const r = await runIn(c.p, remote.secrets, ["list", c.svc, "--offsite", COPY, "--json"]);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { id: string }[]).map((b) => b.id);
}

/** The one local backup is whole: `verify` passes and the container runs. */
async function expectLocalIntact(c: Case, remote: Remote): Promise<void> {
  expect(localBackups(c.p, c.svc)).toHaveLength(1);
  const verified = await runIn(c.p, remote.secrets, ["verify", c.svc]);
  expect(verified.code).toBe(0);
  expect(isRunning(c.container)).toBe(true);
}

describe("the server killed mid-upload", () => {
  test("exit 1, nothing partial listed; the next run completes it and removes the journaled temp file", async () => {
    const remote = await remoteOf("webdav");
    const c = newCase(remote, 80);
    const served = path.join(remote.dir, c.folder, c.svc);
    // A bandwidth limit for the run's rclone (read from its environment) makes sure the kill lands mid-upload.
    const first = start(["backup", c.svc, ...c.p.args], {
      stateHome: c.p.stateHome,
      env: { ...FAST, TOOLS_BACKUP_OFFSITE_TIMEOUT: "10", RCLONE_BWLIMIT: "20M" },
    });
    const partial = () => tempFiles(served).map((f) => path.join(served, f));
    const midway = await waitFor(
      () => partial().some((f) => fs.statSync(f, { throwIfNoEntry: false })!.size > 4 << 20),
      90_000,
    );
    expect(midway).toBe(true);
    await remote.server!.kill();
    const r = await first.done;
    for (const s of remote.secrets) expect(r.stderr).not.toContain(s);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${c.svc}: offsite copy ${COPY} failed:`);
    expect(r.stderr).toContain("the local backups are intact");
    await expectLocalIntact(c, remote);

    // The temporary file stays (the server was gone), journaled under this run's pid.
    const [killed] = localBackups(c.p, c.svc);
    const archive = path.basename(killed!.archive);
    const tmp = `${c.svc}/.tmp-${archive}.${first.child.pid}`;
    expect(tempFiles(path.join(remote.dir, c.folder))).toEqual([tmp]);
    expect(fs.statSync(path.join(remote.dir, c.folder, tmp)).size).toBeLessThan(fs.statSync(killed!.archive).size);
    expect(journaledUploads(c.p.stateHome, COPY)).toEqual([
      expect.objectContaining({ key: `${c.svc}/${archive}`, uploadId: tmp, pid: first.child.pid }),
    ]);

    await remote.server!.start();
    expect(await listedOffsite(c, remote)).toEqual([]);

    const next = await runIn(c.p, remote.secrets, ["backup", c.svc]);
    expect(next.code).toBe(0);
    expect(next.stderr).toContain(`${COPY}: uploaded ${killed!.id}`);
    expect(tempFiles(remote.dir)).toEqual([]);
    expect(journaledUploads(c.p.stateHome, COPY)).toEqual([]);
    expect(sha256(path.join(served, archive))).toBe(sha256(killed!.archive));
    const all = localBackups(c.p, c.svc);
    expect(all).toHaveLength(2);
    expect((await listedOffsite(c, remote)).sort()).toEqual(all.map((b) => b.id).sort());
    expect(filesUnder(served)).toEqual(all.flatMap((b) => [b.archive, b.manifest].map((f) => path.basename(f))).sort());
  });
});

describe.each(["webdav", "serve-sftp"] as RemoteKind[])("a copy that cannot be written (%s)", (kind) => {
  test("a read-only target: exit 1, the remote refused the write, local intact, container running", async () => {
    const remote = await remoteOf(kind, { readOnly: true });
    const c = newCase(remote, 2);
    const r = await runIn(c.p, remote.secrets, ["backup", c.svc]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${c.svc}: offsite copy ${COPY} failed:`);
    expect(r.stderr).toContain("the remote refused the write: no permission (a read-only target?)");
    expect(r.stderr).toContain("the local backups are intact");
    await expectLocalIntact(c, remote);
    expect(filesUnder(remote.dir)).toEqual([]);
  });

  test("a wrong password: exit 1, the remote refused the login, no password in any output", async () => {
    const remote = await remoteOf(kind);
    const wrong = `${remote.server!.pass}-wrong`;
    const c = newCase(remote, 2, remote.section({ pass: obscure(wrong) }));
    const secrets = [...remote.secrets, wrong, obscure(wrong)];
    const r = await runIn(c.p, secrets, ["backup", c.svc]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${c.svc}: offsite copy ${COPY} failed:`);
    expect(r.stderr).toContain("the remote refused the login");
    await expectLocalIntact(c, remote);
    const listed = await runIn(c.p, secrets, ["list", c.svc, "--offsite", COPY]);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain("the remote refused the login");
    expect(filesUnder(remote.dir)).toEqual([]);
  });
});

describe("configuration errors, before any container stops", () => {
  test("rclone not on PATH: exit 2 naming rclone; container untouched, no archive", async () => {
    const remote = await remoteOf("webdav");
    const c = newCase(remote, 1);
    const bin = tempDir("tbtest-bin-");
    const dockerPath = Bun.which("docker")!;
    fs.symlinkSync(dockerPath, path.join(bin, "docker"));
    const since = startedAt(c.container);
    const r = await runIn(c.p, remote.secrets, ["backup", c.svc], { env: { PATH: bin } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("rclone is not on PATH");
    expect(r.stderr).toContain(c.p.config);
    expect(startedAt(c.container)).toBe(since);
    expect(isRunning(c.container)).toBe(true);
    expect(filesIn(c.p.serviceFolder(c.svc))).toEqual([]);
  });

  test("a remote rclone.conf lacks: exit 2 at the copy's backup.yaml line:col", async () => {
    const remote = await remoteOf("webdav");
    const c = newCase(remote, 1);
    c.p.writeConfig({ services: { [c.svc]: true }, offsite: [rcloneEntry(COPY, "nosuch", c.folder, c.conf)] });
    const lines = fs.readFileSync(c.p.config, "utf8").split("\n");
    const line = lines.findIndex((l) => l.includes(`name: ${COPY}`)) + 1;
    const col = lines[line - 1]!.indexOf("name") + 1;
    const since = startedAt(c.container);
    const r = await runIn(c.p, remote.secrets, ["backup", c.svc]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${c.p.config}:${line}:${col}`);
    expect(r.stderr).toContain('the remote "nosuch:" is not in');
    expect(startedAt(c.container)).toBe(since);
    expect(filesIn(c.p.serviceFolder(c.svc))).toEqual([]);
  });
});

const DAY = 86_400_000;

/** One machine: its own project, backup_dir, state and host name, one service on a shared volume. */
interface Machine {
  host: string;
  service: string;
  p: Project;
  conf: string;
}

describe("two hosts sharing one remote folder", () => {
  test("each prunes only its own; beta restores alpha's backup into a new volume", async () => {
    const remote = await remoteOf("webdav");
    const service = svcName("two");
    const volume = createVolume();
    fillVolume(volume, `${FILL}dd if=/dev/urandom of=random.bin bs=64k count=6 2>/dev/null\n`);
    const folder = `shared/${service}`;
    const machine = (host: string): Machine => {
      const p = makeProject({ services: { [service]: [{ name: volume }] } });
      return { host, service, p, conf: confFor(p, { [REMOTE]: remote.section() }) };
    };
    const configure = (m: Machine, extra = {}) =>
      m.p.writeConfig({
        services: { [service]: true },
        offsite: [rcloneEntry(COPY, REMOTE, folder, m.conf)],
        ...extra,
      });
    const tbm = (m: Machine, args: string[]) =>
      runIn(m.p, remote.secrets, args, { env: { TOOLS_BACKUP_HOST: m.host } });
    const backup = async (m: Machine) => {
      const r = await tbm(m, ["backup", service]);
      if (r.code !== 0) throw new Error(`backup on ${m.host} failed (${r.code}): ${r.stderr}`);
    };
    // Local backups made days ago, before the copy exists: each moved to its date, its bytes unchanged.
    const oldBackups = async (m: Machine, daysAgo: number[]) => {
      const ids: string[] = [];
      for (const days of daysAgo) {
        await backup(m);
        const newest = localBackups(m.p, service).find((b) => !ids.includes(b.id))!;
        ids.push(redateBackup(newest.manifest, new Date(Date.now() - days * DAY)).id);
      }
      return ids;
    };
    const served = path.join(remote.dir, folder, service);
    const idsOf = (host: string) =>
      filesIn(served)
        .map((n) => new RegExp(`^(${service}_\\d{8}T\\d{6}Z_${host})\\.json$`).exec(n)?.[1])
        .filter((id): id is string => id !== undefined);

    const alpha = machine("alpha");
    const beta = machine("beta");
    alpha.p.writeConfig({ services: { [service]: true } });
    const alphaOld = await oldBackups(alpha, [4, 3]);
    configure(alpha);
    await backup(alpha); // its new backup, and the two older ones caught up
    const alphaIds = idsOf("alpha");
    expect(alphaIds).toHaveLength(3);
    expect(alphaIds).toEqual(expect.arrayContaining(alphaOld));
    const alphaNewest = alphaIds.at(-1)!;
    const alphaData = checksums(volume);
    for (const b of localBackups(alpha.p, service))
      expect(sha256(path.join(served, path.basename(b.archive)))).toBe(sha256(b.archive));

    // beta's data differs, so restoring alpha's backup is told apart from beta's own.
    fillVolume(volume, "echo beta > keep.txt && rm random.bin && echo only-beta > beta.txt");
    beta.p.writeConfig({ services: { [service]: true } });
    await oldBackups(beta, [4, 3]);
    configure(beta);
    await backup(beta);
    const betaIds = idsOf("beta");
    expect(betaIds).toHaveLength(3);

    // Retention: the newest backup only, nothing older than a day; each host prunes its own alone.
    configure(alpha, { keep_last: 1, retention_days: 1 });
    configure(beta, { keep_last: 1, retention_days: 1 });
    const prunedAlpha = await tbm(alpha, ["prune"]);
    expect(prunedAlpha.code).toBe(0);
    for (const id of alphaOld) expect(prunedAlpha.stderr).toContain(`${COPY}: removed ${id}`);
    expect(idsOf("alpha")).toEqual([alphaNewest]);
    expect(idsOf("beta")).toEqual(betaIds);
    const prunedBeta = await tbm(beta, ["prune"]);
    expect(prunedBeta.code).toBe(0);
    expect(idsOf("alpha")).toEqual([alphaNewest]);
    expect(idsOf("beta")).toEqual([betaIds.at(-1)!]);
    // Each archive went with its manifest, and nothing temporary stayed.
    expect(filesUnder(path.join(remote.dir, folder))).toEqual(
      [alphaNewest, betaIds.at(-1)!].flatMap((id) => [`${service}/${id}.json`, `${service}/${id}.tar.zst`]).sort(),
    );

    // beta restores alpha's backup into a volume it does not have yet.
    docker(["volume", "rm", volume]); // the name stays recorded for cleanupDocker
    expect(volumeExists(volume)).toBe(false);
    const r = await tbm(beta, ["restore", service, "--from", alphaNewest, "--yes"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${COPY}: fetched ${alphaNewest}`);
    expect(volumeExists(volume)).toBe(true);
    expect(checksums(volume)).toEqual(alphaData);
    expect(filesIn(beta.p.serviceFolder(service))).toContain(`${alphaNewest}.json`);
  });
});
