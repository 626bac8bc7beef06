import { request, type IncomingMessage } from "node:http";
import { OperationError, messageOf } from "../errors.ts";
import { dockerError } from "./run.ts";

/**
 * GET /containers/{name}/archive on the engine's Unix socket: the very tar stream `docker cp
 * NAME:PATH -` prints, without the CLI reading and rewriting each byte (about 2 s of CPU per
 * GiB on 2 cores). Resolves once the daemon has answered 200; undefined when the socket cannot
 * be opened at all, so the caller falls back to the CLI, which reports a real failure itself.
 */
export function openArchiveOnSocket(socketPath: string, container: string, path: string, what: string, signal: AbortSignal): Promise<IncomingMessage | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({
      socketPath,
      signal,
      path: `/containers/${encodeURIComponent(container)}/archive?path=${encodeURIComponent(path)}`,
      headers: { "User-Agent": "tools-backup" },
    });
    let answered = false;
    req.on("error", (e: NodeJS.ErrnoException) => {
      if (answered) return; // the response stream reports it
      if (isConnectError(e)) resolve(undefined);
      else reject(signal.aborted ? e : new OperationError(`${what}: ${messageOf(e)}`));
    });
    req.once("response", (res) => {
      answered = true;
      if (res.statusCode === 200) return resolve(res);
      const body: Buffer[] = [];
      res.on("data", (b: Buffer) => body.push(b));
      res.once("error", reject);
      res.once("end", () => reject(dockerError(what, daemonMessage(Buffer.concat(body).toString()))));
    });
    req.end();
  });
}

function isConnectError(e: NodeJS.ErrnoException): boolean {
  return ["ENOENT", "EACCES", "ECONNREFUSED", "EPERM"].includes(e.code ?? "");
}

function daemonMessage(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    return body.trim() || "no answer";
  }
}
