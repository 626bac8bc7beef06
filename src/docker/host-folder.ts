import { lstat } from "node:fs/promises";
import { docker } from "./run.ts";
import { localEngineSocket } from "./endpoint.ts";
import { statOnSocket, type PathStat } from "./archive-socket.ts";
import { capabilityReader } from "../util/xattr.ts";
import type { Helper } from "./helper.ts";

/**
 * The volumes whose folders this process can read itself, with their paths: the engine's
 * `docker cp` stream costs about a core of Docker's CPU per GiB, a read of the folder a tenth of
 * that, and the bytes are the same (folder-tar.ts writes what the engine writes).
 *
 * Only where nothing can differ: we run as root beside a local engine that maps no user ids
 * (rootless, userns-remap), the volume is a plain local one (no driver, no mount options: those
 * are mounted only while a container uses them), and the folder we see is the one the engine
 * sees. The last is checked, not assumed: a second engine (Docker Desktop beside Docker Engine)
 * can have a volume of the same name at the same path. The engine's own lstat of the mounted
 * volume must match ours to the nanosecond of its modification time.
 */
export async function hostFolders(helper: Helper, volumes: string[], signal: AbortSignal): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (process.getuid?.() !== 0) return found;
  const [socket, capability, mapped, inspected] = await Promise.all([localEngineSocket(), capabilityReader(), mapsIds(), mountpoints(volumes)]);
  if (!socket || !capability || mapped) return found;
  await Promise.all(
    volumes.map(async (volume) => {
      const path = inspected.get(volume);
      if (!path) return;
      const [theirs, ours] = await Promise.all([
        statOnSocket(socket, helper.name, helper.pathOf(volume), `checking volume ${volume}`, signal).catch(() => undefined),
        lstat(path, { bigint: true }).catch(() => undefined),
      ]);
      if (theirs && ours && sameFolder(theirs, ours)) found.set(volume, path);
    }),
  );
  return found;
}

async function mapsIds(): Promise<boolean> {
  const r = await docker(["info", "--format", "{{json .SecurityOptions}}"]);
  if (r.code !== 0) return true;
  const options = JSON.parse(r.stdout) as string[] | null;
  return (options ?? []).some((o) => /name=(rootless|userns)\b/.test(o));
}

interface VolumeInfo {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Options: Record<string, string> | null;
}

async function mountpoints(volumes: string[]): Promise<Map<string, string>> {
  const r = await docker(["volume", "inspect", "--format", "{{json .}}", ...volumes]);
  const plain = new Map<string, string>();
  if (r.code !== 0) return plain;
  for (const line of r.stdout.split("\n").filter(Boolean)) {
    const v = JSON.parse(line) as VolumeInfo;
    if (v.Driver === "local" && Object.keys(v.Options ?? {}).length === 0 && v.Mountpoint.startsWith("/")) plain.set(v.Name, v.Mountpoint);
  }
  return plain;
}

const GO_DIR = 2 ** 31;

function sameFolder(theirs: PathStat, ours: { isDirectory(): boolean; mode: bigint; size: bigint; mtimeNs: bigint }): boolean {
  return (
    ours.isDirectory() && theirs.mode >= GO_DIR && (theirs.mode & 0o777) === Number(ours.mode & 0o777n) &&
    BigInt(theirs.size) === ours.size && nanoseconds(theirs.mtime) === ours.mtimeNs
  );
}

/** An RFC 3339 time with up to nine fraction digits, in nanoseconds since 1970. */
function nanoseconds(time: string): bigint | undefined {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}
