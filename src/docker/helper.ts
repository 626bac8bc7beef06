import { randomBytes } from "node:crypto";
import { docker, dockerError, dockerOk } from "./run.ts";
import { removeContainer } from "./engine.ts";

/**
 * A never-started container that mounts a service's volumes at /v/<volume>, so `docker cp`
 * can stream them through the Docker API: no bind mounts, no pulls, works on remote engines.
 * Its image is imported from an empty tar, so it exists on any engine without a registry.
 */
export const HELPER_IMAGE = "tools-backup-helper:1";
export const HELPER_LABEL = "io.tools-backup.helper";
export const MOUNT_ROOT = "/v";

async function ensureHelperImage(): Promise<void> {
  const r = await docker(["image", "inspect", "--format", "{{.Id}}", HELPER_IMAGE]);
  if (r.code === 0) return;
  if (!/no such image/i.test(r.stderr)) throw dockerError("checking the helper image", r.stderr);
  await dockerOk(["import", "--message", "tools-backup helper (empty)", "-", HELPER_IMAGE], "creating the helper image", new Uint8Array(1024));
}

export interface Helper {
  name: string;
  pathOf(volume: string): string;
  remove(): Promise<void>;
}

export async function createHelper(service: string, volumes: string[], readOnly: boolean): Promise<Helper> {
  await ensureHelperImage();
  const name = `tools-backup-${service}-${randomBytes(4).toString("hex")}`;
  const mounts = volumes.flatMap((v) => ["-v", `${v}:${MOUNT_ROOT}/${v}${readOnly ? ":ro" : ""}`]);
  await dockerOk(
    ["create", "--name", name, "--network", "none", "--label", `${HELPER_LABEL}=${service}`, ...mounts, HELPER_IMAGE, "/none"],
    `creating a helper container for ${service}`,
  );
  return { name, pathOf: (v) => `${MOUNT_ROOT}/${v}`, remove: () => removeContainer(name) };
}

/** Removes helpers a killed run left behind; they hold no data, only volume references. */
export async function removeStaleHelpers(service: string): Promise<void> {
  const out = await dockerOk(["ps", "-a", "--filter", `label=${HELPER_LABEL}=${service}`, "--format", "{{.Names}}"], "listing helpers");
  for (const name of out.split("\n").filter(Boolean)) await removeContainer(name);
}
