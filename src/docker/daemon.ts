import { OperationError } from "../util/errors.ts";
import { docker, dockerError, dockerOk, unreachableText } from "./cli.ts";
import { HELPER_LABEL } from "./labels.ts";

/**
 * Why the engine cannot be asked anything, or undefined when it answers. An unreachable engine is
 * said without a prefix: it is the whole reason, in the same words wherever Docker is needed.
 */
export async function engineProblem(): Promise<string | undefined> {
  const r = await docker(["version", "--format", "{{.Server.Version}}"]);
  if (r.code === 0) return undefined;
  return unreachableText(r.stderr) ?? dockerError("docker", r.stderr).message;
}

/** Fails early, with one clear message, when the daemon cannot be reached. */
export async function checkDaemon(): Promise<void> {
  const problem = await engineProblem();
  if (problem) throw new OperationError(problem);
}

export async function volumeExists(name: string): Promise<boolean> {
  const r = await docker(["volume", "inspect", "--format", "{{.Name}}", name]);
  if (r.code === 0) return true;
  if (/no such volume/i.test(r.stderr)) return false;
  throw dockerError(`inspecting volume ${name}`, r.stderr);
}

export async function createVolume(name: string): Promise<void> {
  await dockerOk(["volume", "create", name], `creating volume ${name}`);
}

export interface ContainerState {
  name: string;
  exists: boolean;
  /**
   * Running, or restarting under its restart policy (Docker would start it again in the middle
   * of the archive). False for a paused container (Docker's Running=true): it is frozen already.
   */
  running: boolean;
  paused: boolean;
  /** Docker's id: a container re-created under the same name has another. */
  id?: string;
}

export async function containerState(name: string): Promise<ContainerState> {
  const r = await docker(["container", "inspect", "--format", "{{.Id}} {{.State.Status}}", name]);
  const [id, status] = r.stdout.trim().split(" ");
  if (r.code === 0)
    return {
      name,
      exists: true,
      running: status === "running" || status === "restarting",
      paused: status === "paused",
      id,
    };
  if (/no such (container|object)/i.test(r.stderr)) return { name, exists: false, running: false, paused: false };
  throw dockerError(`inspecting container ${name}`, r.stderr);
}

/**
 * Names of running (or paused) containers that mount the volume, declared or not. Our own are
 * left out: a restore's emptying waits in one, touching nothing, while the safety backup reads the volume.
 */
export async function runningContainersUsing(volume: string): Promise<string[]> {
  const format = `{{.Names}}\t{{.Label "${HELPER_LABEL}"}}`;
  const out = await dockerOk(
    ["ps", "--filter", `volume=${volume}`, "--format", format],
    `listing containers using ${volume}`,
  );
  return out
    .split("\n")
    .map((line) => line.trim().split("\t"))
    .filter(([name, label]) => name && !label)
    .map(([name]) => name!);
}

/** `seconds`: how long docker waits for the container to exit before it kills it. */
export async function stopContainer(name: string, seconds: number): Promise<void> {
  await dockerOk(["stop", "--time", String(seconds), name], `stopping container ${name}`);
}

export async function startContainer(name: string): Promise<void> {
  await dockerOk(["start", name], `starting container ${name}`);
}

export async function removeContainer(name: string): Promise<void> {
  const r = await docker(["rm", "--force", "--volumes=false", name]);
  if (r.code !== 0 && !/no such container/i.test(r.stderr)) throw dockerError(`removing helper ${name}`, r.stderr);
}
