import type { Socket } from "node:net";
import type { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { messageOf, OperationError } from "../../util/errors.ts";
import { consumed } from "../../util/release.ts";
import { archivePath, connectSocket, daemonError, parseStatus } from "./http.ts";

/** After refusing an upload the daemon closes the connection; this long at most. */
const REFUSAL_GRACE_MS = 10_000;

interface Answer {
  status?: number;
  body: Buffer;
}

/**
 * PUT /containers/{name}/archive on the engine's Unix socket: what `docker cp -a - NAME:PATH`
 * sends (ownership kept), the tar that `open`'s streams give sent in HTTP chunks. The daemon may refuse
 * mid-way (a path it will not write, a full disk): its answer is read as it comes, the upload
 * stops, and its message is the error. False when the socket cannot be opened at all, so the
 * caller uses the CLI.
 */
export async function uploadArchiveOnSocket(
  socketPath: string,
  container: string,
  path: string,
  open: () => Promise<[Readable, ...Transform[]]>,
  what: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const stop = new AbortController();
  let sock: Socket | undefined;
  // Also while the daemon finishes writing after the upload: Ctrl-C must not wait for it.
  const onAbort = () => {
    stop.abort(signal!.reason);
    sock?.destroy();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const conn = await connectSocket(socketPath, what, stop.signal);
    if (!conn) return false;
    sock = conn;
    let refused = false;
    const answer = collectAnswer(conn, what, (status) => {
      if (status < 300 || stop.signal.aborted) return;
      refused = true;
      stop.abort();
    });
    const target = archivePath(container, { path, noOverwriteDirNonDir: "true", copyUIDGID: "true" });
    conn.write(
      `PUT ${target} HTTP/1.1\r\n` +
        "Host: docker\r\n" +
        "User-Agent: tools-backup\r\n" +
        "Content-Type: application/x-tar\r\n" +
        "Transfer-Encoding: chunked\r\n" +
        "Connection: close\r\n" +
        "\r\n",
    );
    const send = async () => {
      const [source, ...through] = await open();
      await pipeline(source, ...through, (tar: AsyncIterable<Buffer>) => sendChunked(conn, tar), {
        signal: stop.signal,
      });
    };
    const sent = await send().then(
      () => undefined,
      (e: unknown) => ({ error: e }),
    );
    // A failure on our side (a read error, Ctrl-C) cuts the body, so the daemon stops writing.
    if (sent && !refused) conn.destroy();
    const timer = refused ? setTimeout(() => conn.destroy(), REFUSAL_GRACE_MS) : undefined;
    const reply = await answer;
    clearTimeout(timer);
    conn.destroy();
    if (reply.status !== undefined && reply.status >= 300) throw daemonError(reply.body, what);
    if (signal?.aborted) throw signal.reason;
    if (sent && !(sent.error instanceof SocketClosed && reply.status !== undefined))
      throw sent.error instanceof SocketClosed ? closed(what, sent.error) : sent.error;
    if (reply.status === undefined) throw closed(what);
    return true;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/** The connection closed under a write: the daemon either answered already or failed. */
class SocketClosed extends Error {
  constructor(sock?: Socket) {
    super(sock?.errored ? messageOf(sock.errored) : "");
  }
}

const closed = (what: string, e?: Error) =>
  new OperationError(`${what}: the Docker engine closed the connection${e?.message ? ` (${e.message})` : ""}`);

/** The last stage: each chunk is consumed once the socket has taken it (release.ts). */
async function sendChunked(sock: Socket, tar: AsyncIterable<Buffer>): Promise<void> {
  for await (const chunk of tar) {
    if (sock.destroyed) throw new SocketClosed(sock);
    if (chunk.length === 0) continue;
    sock.cork();
    sock.write(`${chunk.length.toString(16)}\r\n`);
    sock.write(chunk, () => consumed(chunk));
    const more = sock.write("\r\n");
    sock.uncork();
    if (!more) await drained(sock);
  }
  sock.write("0\r\n\r\n");
}

function drained(sock: Socket): Promise<void> {
  if (sock.destroyed) return Promise.reject(new SocketClosed());
  return new Promise((resolve, reject) => {
    const done = (f: () => void) => {
      sock.off("drain", onDrain).off("close", onClose);
      f();
    };
    const onDrain = () => done(resolve);
    const onClose = () => done(() => reject(new SocketClosed(sock)));
    sock.on("drain", onDrain).on("close", onClose);
  });
}

/** Everything the daemon answers, until it closes the connection; `onStatus` as soon as the status is known. */
function collectAnswer(sock: Socket, what: string, onStatus: (status: number) => void): Promise<Answer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let parsed: { status: number; bodyAt: number } | undefined;
    let bad = false;
    sock.on("error", () => undefined); // seen as the close that follows
    sock.on("data", (b: Buffer) => {
      parts.push(b);
      if (parsed || bad) return;
      try {
        parsed = parseStatus(Buffer.concat(parts), what);
      } catch {
        bad = true;
      }
      if (parsed) onStatus(parsed.status);
    });
    sock.once("close", () => {
      const all = Buffer.concat(parts);
      resolve(parsed ? { status: parsed.status, body: all.subarray(parsed.bodyAt) } : { body: all });
    });
  });
}
