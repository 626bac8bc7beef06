import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { isAlive } from "../util/process.ts";
import { docker, dockerError, dockerOk } from "./cli.ts";
import { removeContainer } from "./daemon.ts";
import { HELPER_LABEL } from "./labels.ts";

/**
 * A never-started container that mounts a service's volumes at /v/<volume>, so `docker cp`
 * can stream them through the Docker API: no bind mounts, no pulls, works on remote engines.
 * Its image is imported from an empty tar, so it exists on any engine without a registry.
 */
export const HELPER_IMAGE = "tools-backup-helper:1";
/** `host:pid` of the run that created the helper: only a dead run's helpers may be removed. */
export const OWNER_LABEL = "io.tools-backup.owner";
export const MOUNT_ROOT = "/v";

async function importHelperImage(): Promise<void> {
  await dockerOk(
    ["import", "--message", "tools-backup helper (empty)", "-", HELPER_IMAGE],
    "creating the helper image",
    new Uint8Array(1024),
  );
}

export interface Helper {
  name: string;
  pathOf(volume: string): string;
  remove(): Promise<void>;
}

export async function createHelper(service: string, volumes: string[], readOnly: boolean): Promise<Helper> {
  const name = `tools-backup-${service}-${randomBytes(4).toString("hex")}`;
  const mounts = volumes.flatMap((v) => ["-v", `${v}:${MOUNT_ROOT}/${v}${readOnly ? ":ro" : ""}`]);
  // Never pulled: a missing image is made here and the create tried again. Not asked about
  // first, since every docker call before the stop costs CPU that the stop waits for.
  const args = [
    "create",
    "--pull",
    "never",
    "--name",
    name,
    "--network",
    "none",
    "--label",
    `${HELPER_LABEL}=${service}`,
    "--label",
    `${OWNER_LABEL}=${owner()}`,
    ...mounts,
    HELPER_IMAGE,
    "/none",
  ];
  let r = await docker(args);
  if (r.code !== 0 && /no such image/i.test(r.stderr)) {
    await importHelperImage();
    r = await docker(args);
  }
  if (r.code !== 0) throw dockerError(`creating a helper container for ${service}`, r.stderr);
  return { name, pathOf: (v) => `${MOUNT_ROOT}/${v}`, remove: () => removeContainer(name) };
}

function owner(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * Removes helpers that a killed run on this machine left behind; they hold no data, only volume
 * references. A helper of a live run (another project, another user, the same service name)
 * is in use, and one made on another machine sharing the engine cannot be judged from here.
 */
export async function removeStaleHelpers(): Promise<void> {
  const format = `{{.Names}}\t{{.Label "${OWNER_LABEL}"}}`;
  const out = await dockerOk(["ps", "-a", "--filter", `label=${HELPER_LABEL}`, "--format", format], "listing helpers");
  for (const line of out.split("\n").filter(Boolean)) {
    const [name, label = ""] = line.split("\t");
    const at = label.lastIndexOf(":");
    const pid = Number(label.slice(at + 1));
    if (at > 0 && label.slice(0, at) === hostname() && Number.isInteger(pid) && pid > 0 && !isAlive(pid))
      await removeContainer(name!);
  }
}
