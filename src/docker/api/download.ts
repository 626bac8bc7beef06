import type { Socket } from "node:net";
import { messageOf, OperationError } from "../../util/errors.ts";
import { answerError, archivePath, connectSocket, readStatus } from "./http.ts";

/**
 * GET /containers/{name}/archive on the engine's Unix socket: the very tar stream `docker cp
 * NAME:PATH -` prints. Asked over HTTP/1.0, the daemon sends the tar as it is until it closes
 * the connection; a cut is then told by the tar's missing end marker (the caller checks).
 * Resolves with the socket, positioned at the tar's first byte, once the daemon has answered
 * 200; undefined when the socket cannot be opened at all.
 */
export async function openArchiveOnSocket(
  socketPath: string,
  container: string,
  path: string,
  what: string,
  signal: AbortSignal,
): Promise<Socket | undefined> {
  const sock = await connectSocket(socketPath, what, signal);
  if (!sock) return undefined;
  const abort = () => sock.destroy(signal.reason as Error);
  signal.addEventListener("abort", abort, { once: true });
  try {
    sock.write(`GET ${archivePath(container, { path })} HTTP/1.0\r\nHost: docker\r\nUser-Agent: tools-backup\r\n\r\n`);
    const status = await readStatus(sock, what);
    if (status === 200) return sock;
    throw await answerError(sock, what);
  } catch (e) {
    sock.destroy();
    throw signal.aborted || e instanceof OperationError ? e : new OperationError(`${what}: ${messageOf(e)}`);
  } finally {
    signal.removeEventListener("abort", abort);
  }
}
