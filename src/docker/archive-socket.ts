import { connect, type Socket } from "node:net";
import { OperationError, messageOf } from "../errors.ts";
import { dockerError } from "./run.ts";

/** The status line and headers of an answer are far smaller; more means it is no HTTP answer. */
const MAX_HEAD = 64 << 10;

/**
 * GET /containers/{name}/archive on the engine's Unix socket: the very tar stream `docker cp
 * NAME:PATH -` prints, without the CLI reading and rewriting each byte (about 2 s of CPU per
 * GiB on 2 cores). Asked over HTTP/1.0, the daemon sends the tar as it is until it closes the
 * connection, where node:http would de-chunk HTTP/1.1 at about 0.4 s more CPU per GiB; a cut
 * is then told by the tar's missing end marker (the caller checks). Resolves with the socket,
 * positioned at the tar's first byte, once the daemon has answered 200; undefined when the
 * socket cannot be opened at all, so the caller falls back to the CLI, which reports a real
 * failure itself.
 */
export function openArchiveOnSocket(socketPath: string, container: string, path: string, what: string, signal: AbortSignal): Promise<Socket | undefined> {
  return new Promise((resolve, reject) => {
    const sock = connect({ path: socketPath });
    let connected = false;
    let head = Buffer.alloc(0);
    const abort = () => sock.destroy(signal.reason as Error);
    const settle = (f: () => void) => {
      signal.removeEventListener("abort", abort);
      sock.off("readable", onReadable).off("error", onError).off("end", onEnd);
      f();
    };
    const onError = (e: NodeJS.ErrnoException) => {
      if (!connected && isConnectError(e)) settle(() => resolve(undefined));
      else settle(() => reject(signal.aborted ? e : new OperationError(`${what}: ${messageOf(e)}`)));
    };
    const onEnd = () => settle(() => reject(new OperationError(`${what}: the Docker engine closed the connection without answering`)));
    const onReadable = () => {
      for (let chunk: Buffer | null; (chunk = sock.read() as Buffer | null) !== null; ) head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0 && head.length <= MAX_HEAD) return;
      const status = end < 0 ? undefined : /^HTTP\/1\.[01] (\d{3}) /.exec(head.toString("latin1", 0, end))?.[1];
      if (status === undefined) return settle(() => (sock.destroy(), reject(new OperationError(`${what}: the Docker engine's answer is not HTTP`))));
      const body = head.subarray(end + 4);
      if (status === "200") return settle(() => (body.length > 0 && sock.unshift(body), resolve(sock)));
      settle(() => readError(sock, body).then((message) => reject(dockerError(what, message)), reject));
    };
    signal.addEventListener("abort", abort, { once: true });
    sock.once("connect", () => {
      connected = true;
      const target = `/containers/${encodeURIComponent(container)}/archive?path=${encodeURIComponent(path)}`;
      sock.write(`GET ${target} HTTP/1.0\r\nHost: docker\r\nUser-Agent: tools-backup\r\n\r\n`);
    });
    sock.on("readable", onReadable).on("error", onError).on("end", onEnd);
  });
}

/** The daemon's message from an error answer's body (JSON `{"message": ...}`). */
async function readError(sock: Socket, first: Buffer): Promise<string> {
  const parts = [first];
  for await (const chunk of sock) parts.push(chunk as Buffer);
  const body = Buffer.concat(parts).toString();
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    return body.trim() || "no answer";
  }
}

function isConnectError(e: NodeJS.ErrnoException): boolean {
  return ["ENOENT", "EACCES", "ECONNREFUSED", "EPERM"].includes(e.code ?? "");
}
