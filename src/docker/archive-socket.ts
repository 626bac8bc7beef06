import type { Socket } from "node:net";
import { OperationError, messageOf } from "../errors.ts";
import { archivePath, answerError, connectEngine, readHead } from "./engine-socket.ts";

/**
 * GET /containers/{name}/archive on the engine's Unix socket: the very tar stream `docker cp
 * NAME:PATH -` prints. Asked over HTTP/1.0, the daemon sends the tar as it is until it closes
 * the connection; a cut is then told by the tar's missing end marker (the caller checks).
 * Resolves with the socket, positioned at the tar's first byte, once the daemon has answered
 * 200; undefined when the socket cannot be opened at all.
 */
export async function openArchiveOnSocket(socketPath: string, container: string, path: string, what: string, signal: AbortSignal): Promise<Socket | undefined> {
  const sock = await connectEngine(socketPath, what, signal);
  if (!sock) return undefined;
  const abort = () => sock.destroy(signal.reason as Error);
  signal.addEventListener("abort", abort, { once: true });
  try {
    sock.write(`GET ${archivePath(container, { path })} HTTP/1.0\r\nHost: docker\r\nUser-Agent: tools-backup\r\n\r\n`);
    const { status } = await readHead(sock, what);
    if (status === 200) return sock;
    throw await answerError(sock, what);
  } catch (e) {
    sock.destroy();
    throw signal.aborted || e instanceof OperationError ? e : new OperationError(`${what}: ${messageOf(e)}`);
  } finally {
    signal.removeEventListener("abort", abort);
  }
}

export interface PathStat {
  size: number;
  /** Go's FileMode: permission bits, the directory bit is 1 << 31. */
  mode: number;
  /** RFC 3339 with nanoseconds. */
  mtime: string;
}

/**
 * HEAD /containers/{name}/archive: the engine's own lstat of a path in a container, from the
 * answer's X-Docker-Container-Path-Stat header. Undefined when the socket cannot be opened.
 */
export async function statOnSocket(socketPath: string, container: string, path: string, what: string, signal: AbortSignal): Promise<PathStat | undefined> {
  const sock = await connectEngine(socketPath, what, signal);
  if (!sock) return undefined;
  try {
    sock.write(`HEAD ${archivePath(container, { path })} HTTP/1.0\r\nHost: docker\r\nUser-Agent: tools-backup\r\n\r\n`);
    const { status, head } = await readHead(sock, what);
    if (status !== 200) throw await answerError(sock, what);
    const value = /^x-docker-container-path-stat:\s*(\S+)\s*$/im.exec(head)?.[1];
    if (!value) throw new OperationError(`${what}: the Docker engine's answer has no path stat`);
    return JSON.parse(Buffer.from(value, "base64").toString("utf8")) as PathStat;
  } finally {
    sock.destroy();
  }
}
