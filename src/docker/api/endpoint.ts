import { existsSync } from "node:fs";
import { docker } from "../cli.ts";

let cached: Promise<string | undefined> | undefined;

/**
 * The Unix socket of the engine the docker CLI talks to, when it is a local one: bulk reads
 * then skip the CLI's copy of every byte. Asked of the CLI itself, so DOCKER_HOST and contexts
 * decide exactly as for every other call; any other endpoint (tcp, ssh, npipe) gives undefined.
 */
export function localEngineSocket(): Promise<string | undefined> {
  cached ??= findLocalSocket();
  return cached;
}

async function findLocalSocket(): Promise<string | undefined> {
  const r = await docker(["context", "inspect", "--format", "{{.Endpoints.docker.Host}}"]);
  const host = r.code === 0 ? r.stdout.trim() : "";
  const path = host.startsWith("unix://") ? host.slice("unix://".length) : undefined;
  return path && existsSync(path) ? path : undefined;
}
