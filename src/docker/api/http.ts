/**
 * The HTTP both transfers share, written by hand on node:net: node:http's de-chunking costs more
 * CPU than reading the socket itself (docs/design.md).
 */
import { connect, type Socket } from "node:net";
import { messageOf, OperationError } from "../../util/errors.ts";
import { dockerError } from "../cli.ts";

/** The status line and headers of an answer are far smaller; more means it is no HTTP answer. */
const MAX_HEAD = 64 << 10;

/** Connects to the engine; undefined when the socket cannot be opened at all (the caller falls back to the CLI). */
export function connectSocket(socketPath: string, what: string, signal: AbortSignal): Promise<Socket | undefined> {
  return new Promise((resolve, reject) => {
    const sock = connect({ path: socketPath });
    const abort = () => sock.destroy(signal.reason as Error);
    const done = (f: () => void) => {
      signal.removeEventListener("abort", abort);
      sock.off("error", onError);
      f();
    };
    const onError = (e: NodeJS.ErrnoException) => {
      if (["ENOENT", "EACCES", "ECONNREFUSED", "EPERM"].includes(e.code ?? "")) done(() => resolve(undefined));
      else done(() => reject(signal.aborted ? e : new OperationError(`${what}: ${messageOf(e)}`)));
    };
    signal.addEventListener("abort", abort, { once: true });
    sock.on("error", onError).once("connect", () => done(() => resolve(sock)));
  });
}

/** The status of the answer that `head` starts with: undefined while its head is incomplete. */
export function parseStatus(head: Buffer, what: string): { status: number; bodyAt: number } | undefined {
  const end = head.indexOf("\r\n\r\n");
  if (end < 0 && head.length <= MAX_HEAD) return undefined;
  const status = end < 0 ? undefined : /^HTTP\/1\.[01] (\d{3}) /.exec(head.toString("latin1", 0, end))?.[1];
  if (status === undefined) throw new OperationError(`${what}: the Docker engine's answer is not HTTP`);
  return { status: Number(status), bodyAt: end + 4 };
}

/**
 * Reads an answer's status line and headers; what came after them is put back to be read as
 * the body. Rejects when the connection ends or fails first.
 */
export function readStatus(sock: Socket, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const done = (f: () => void) => {
      sock.off("readable", onReadable).off("error", onError).off("end", onEnd);
      f();
    };
    const onError = (e: Error) => done(() => reject(e));
    const onEnd = () =>
      done(() => reject(new OperationError(`${what}: the Docker engine closed the connection without answering`)));
    const onReadable = () => {
      let chunk = sock.read() as Buffer | null;
      while (chunk !== null) {
        head = Buffer.concat([head, chunk]);
        chunk = sock.read() as Buffer | null;
      }
      try {
        const parsed = parseStatus(head, what);
        if (!parsed) return;
        done(() => {
          if (head.length > parsed.bodyAt) sock.unshift(head.subarray(parsed.bodyAt));
          resolve(parsed.status);
        });
      } catch (e) {
        done(() => reject(e));
      }
    };
    sock.on("readable", onReadable).on("error", onError).on("end", onEnd);
  });
}

/** The error an answer other than 2xx stands for: the daemon's own message, from its body. */
export async function answerError(sock: Socket, what: string): Promise<OperationError> {
  const parts: Buffer[] = [];
  for await (const chunk of sock) parts.push(chunk as Buffer);
  return daemonError(Buffer.concat(parts), what);
}

export function daemonError(body: Buffer, what: string): OperationError {
  const text = body.toString();
  let message: string;
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    message = text.trim() || "no answer";
  }
  return dockerError(what, message);
}

export function archivePath(container: string, query: Record<string, string>): string {
  return `/containers/${encodeURIComponent(container)}/archive?${new URLSearchParams(query)}`;
}
