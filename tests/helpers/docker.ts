/**
 * Real Docker, argument arrays only (never a shell string on the host). Every volume and
 * container made here is recorded and removed by `cleanupDocker()`; names start with `tbtest-`.
 * Only the local image busybox:stable is used; nothing is ever pulled.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";

export const IMAGE = "busybox:stable";

const volumes = new Set<string>();
const containers = new Set<string>();

export function uniqueName(what = ""): string {
  return `tbtest-${what ? `${what}-` : ""}${randomBytes(4).toString("hex")}`;
}

export interface DockerResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function docker(args: string[], opts: { input?: string } = {}): DockerResult {
  const r = spawnSync("docker", args, { encoding: "utf8", input: opts.input, maxBuffer: 64 << 20, timeout: 110_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function dockerOk(args: string[]): string {
  const r = docker(args);
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

export function createVolume(name = uniqueName("vol")): string {
  volumes.add(name);
  dockerOk(["volume", "create", name]);
  return name;
}

export function removeVolume(name: string): void {
  docker(["volume", "rm", "--force", name]);
  volumes.delete(name);
}

export function volumeExists(name: string): boolean {
  return docker(["volume", "inspect", name]).code === 0;
}

/** A long-running container mounting `vols` at /data (first) or /data<i>; `--init` so `docker stop` is instant. */
export function runContainer(name: string, vols: string[], opts: { stopped?: boolean; init?: boolean } = {}): string {
  containers.add(name);
  const mounts = vols.flatMap((v, i) => ["-v", `${v}:/data${i === 0 ? "" : i}`]);
  // Without --init, sleep is PID 1 and ignores SIGTERM: `docker stop` then waits its full timeout.
  const init = opts.init === false ? [] : ["--init"];
  dockerOk(["run", "-d", ...init, "--name", name, ...mounts, IMAGE, "sleep", "100000"]);
  if (opts.stopped) dockerOk(["stop", "--time", "1", name]);
  return name;
}

export function removeContainer(name: string): void {
  docker(["rm", "--force", name]);
  containers.delete(name);
}

export function isRunning(name: string): boolean {
  const r = docker(["container", "inspect", "--format", "{{.State.Running}}", name]);
  return r.code === 0 && r.stdout.trim() === "true";
}

export function startedAt(name: string): string {
  return dockerOk(["container", "inspect", "--format", "{{.State.StartedAt}}", name]).trim();
}

/** Runs `script` in busybox with the volume at /d (working folder /d). */
export function inVolume(volume: string, script: string): string {
  return dockerOk(["run", "--rm", "--network", "none", "-v", `${volume}:/d`, "-w", "/d", IMAGE, "sh", "-c", script]);
}

export const fillVolume = inVolume;

export interface Entry {
  path: string;
  owner: string; // uid:gid
  mode: string; // octal permission bits
  size: number;
  mtime: number; // seconds
  type: string; // "regular file", "directory", "symbolic link", ...
  inode: number;
  links: number;
}

const FMT = "%n|%u:%g|%a|%s|%Y|%F|%i|%h";

function parseListing(text: string): Entry[] {
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const f = line.split("|");
      const tail = f.splice(-7); // names may not contain "|" here, but be safe about the front
      const [owner, mode, size, mtime, type, inode, links] = tail as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      return {
        path: f.join("|"),
        owner,
        mode,
        size: Number(size),
        mtime: Number(mtime),
        type: type.replace(/^regular empty file$/, "regular file"),
        inode: Number(inode),
        links: Number(links),
      };
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `cmd` run by busybox in `source` (a volume, or an absolute host folder) mounted read-only at /d. */
function readOnly(source: string, cmd: string[]): string {
  return dockerOk(["run", "--rm", "--network", "none", "-v", `${source}:/d:ro`, "-w", "/d", IMAGE, ...cmd]);
}

/** Metadata of every entry, read with busybox: a volume name, or an absolute host folder (bind-mounted). */
export function listing(source: string): Entry[] {
  const out = readOnly(source, ["find", ".", "-exec", "stat", "-c", FMT, "{}", "+"]);
  return parseListing(out);
}

/** path -> md5 of every regular file. */
export function checksums(source: string): Record<string, string> {
  const out = readOnly(source, ["find", ".", "-type", "f", "-exec", "md5sum", "{}", "+"]);
  const sums: Record<string, string> = {};
  for (const line of out.split("\n").filter(Boolean)) {
    const m = /^([0-9a-f]{32})\s+(.*)$/.exec(line);
    if (m) sums[m[2]!] = m[1]!;
  }
  return sums;
}

/** path -> target of every symlink. */
export function symlinks(source: string): Record<string, string> {
  const out = readOnly(source, [
    "find",
    ".",
    "-type",
    "l",
    "-exec",
    "sh",
    "-c",
    'for l; do printf "%s|%s\\n" "$l" "$(readlink "$l")"; done',
    "sh",
    "{}",
    "+",
  ]);
  const links: Record<string, string> = {};
  for (const line of out.split("\n").filter(Boolean)) {
    const i = line.lastIndexOf("|");
    links[line.slice(0, i)] = line.slice(i + 1);
  }
  return links;
}

/** Groups of paths sharing an inode (hard links), as sorted lists; inode numbers differ between copies. */
export function hardLinkGroups(entries: Entry[]): string[][] {
  const by = new Map<number, string[]>();
  for (const e of entries) if (e.type === "regular file") by.set(e.inode, [...(by.get(e.inode) ?? []), e.path]);
  return [...by.values()]
    .filter((g) => g.length > 1)
    .map((g) => g.sort())
    .sort();
}

/** Removes every container and volume this process created (containers first: they hold volumes). */
export function cleanupDocker(): void {
  for (const c of [...containers]) removeContainer(c);
  for (const v of [...volumes]) {
    // A helper container a killed run of the tool left behind still references the volume.
    const users = docker(["ps", "-a", "--filter", `volume=${v}`, "--format", "{{.Names}}"])
      .stdout.split("\n")
      .filter(Boolean);
    for (const c of users) docker(["rm", "--force", c]);
    removeVolume(v);
  }
}

/** Helper containers the tool left behind for a service (it should remove its own). */
export function leftoverHelpers(service: string): string[] {
  const out = dockerOk(["ps", "-a", "--filter", `label=io.tools-backup.helper=${service}`, "--format", "{{.Names}}"]);
  return out.split("\n").filter(Boolean);
}

/**
 * Whether the engine has sent the container SIGTERM since `sinceMs`: a `docker stop` reached it
 * and goes on whatever happens to the client. Seeing our "stopping" message does not tell that.
 */
export function stopReceivedSince(container: string, sinceMs: number): boolean {
  const at = (ms: number) => (ms / 1000).toFixed(3);
  const format = "{{.TimeNano}} {{.Actor.Attributes.signal}}";
  const out = dockerOk([
    "events",
    "--since",
    at(sinceMs),
    "--until",
    at(Date.now()),
    "--filter",
    `container=${container}`,
    "--filter",
    "event=kill",
    "--format",
    format,
  ]);
  // The engine may round --since down to the second, replaying an earlier container's stop.
  return out.split("\n").some((line) => {
    const [nano, signal] = line.split(" ");
    return signal === "15" && BigInt(nano!) >= BigInt(sinceMs) * 1_000_000n;
  });
}

/** The tool's runner containers (emptying, measuring) that mount `volume`, running or not. */
export function runnersUsing(volume: string): string {
  return dockerOk([
    "ps",
    "-a",
    "--filter",
    "label=io.tools-backup.helper=runner",
    "--filter",
    `volume=${volume}`,
    "--format",
    "{{.Names}}",
  ]).trim();
}

/** Removes helpers a killed run of the tool left behind (the next run of that service would too). */
export function removeLeftoverHelpers(service: string): void {
  for (const name of leftoverHelpers(service)) docker(["rm", "--force", name]);
}
