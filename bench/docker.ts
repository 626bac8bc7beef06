/**
 * Docker resources of the benchmark. Every volume, container and temporary folder made here has
 * a `tbbench-` name and is recorded, so `cleanup()` removes exactly what this run created, also
 * after a failure or Ctrl-C. Only the local busybox:stable is used: `--pull never` everywhere.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ok, run } from "./proc.ts";

export const IMAGE = "busybox:stable";
/** The label the product puts on its helper containers, valued with the service name. */
const PRODUCT_HELPER_LABEL = "io.tools-backup.helper";

const volumes = new Set<string>();
const containers = new Set<string>();
const dirs = new Set<string>();
const services = new Set<string>();

export function uniqueName(what: string): string {
  return `tbbench-${what}-${randomBytes(4).toString("hex")}`;
}

export function docker(args: string[]) {
  return ok("docker", args);
}

export function tempDir(what: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tbbench-${what}-`));
  dirs.add(dir);
  return dir;
}

export async function createVolume(what: string): Promise<string> {
  const name = uniqueName(what);
  volumes.add(name);
  await docker(["volume", "create", name]);
  return name;
}

export async function mountpoint(volume: string): Promise<string> {
  return (await docker(["volume", "inspect", "--format", "{{.Mountpoint}}", volume])).stdout.trim();
}

/** The service's app: `--init` so SIGTERM ends it at once and `docker stop` costs no timeout. */
export async function runApp(volume: string): Promise<string> {
  const name = uniqueName("app");
  containers.add(name);
  await docker([
    "run",
    "-d",
    "--init",
    "--pull",
    "never",
    "--network",
    "none",
    "--name",
    name,
    "-v",
    `${volume}:/data`,
    IMAGE,
    "sleep",
    "1000000",
  ]);
  return name;
}

/** A created, never-started container mounting the volume at /v/<volume>, as the product's helper does. */
export async function createHelper(volume: string): Promise<string> {
  const name = uniqueName("helper");
  containers.add(name);
  await docker([
    "create",
    "--pull",
    "never",
    "--network",
    "none",
    "--name",
    name,
    "-v",
    `${volume}:/v/${volume}`,
    IMAGE,
    "true",
  ]);
  return name;
}

/** A name for a `docker run --rm` container, recorded so an interrupted run still removes it. */
export function oneShotName(what: string): string {
  const name = uniqueName(what);
  containers.add(name);
  return name;
}

/** Service names given to the product, whose leftover helpers (if any) are ours to remove. */
export function recordService(name: string): void {
  services.add(name);
}

export async function removeContainer(name: string): Promise<void> {
  await run("docker", ["rm", "--force", name]);
  containers.delete(name);
}

export async function removeVolume(name: string): Promise<void> {
  await run("docker", ["volume", "rm", "--force", name]);
  volumes.delete(name);
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

/** Containers first: a volume in use by one cannot be removed. Never throws. */
export async function cleanup(): Promise<void> {
  for (const s of services) {
    const r = await run("docker", ["ps", "-aq", "--filter", `label=${PRODUCT_HELPER_LABEL}=${s}`]);
    for (const id of r.stdout.split("\n").filter(Boolean)) await run("docker", ["rm", "--force", id]);
  }
  for (const c of [...containers]) await removeContainer(c).catch(() => undefined);
  for (const v of [...volumes]) await removeVolume(v).catch(() => undefined);
  for (const d of [...dirs]) removeDir(d);
}
