import { messageOf } from "../../util/errors.ts";
import { sleep } from "../../util/sleep.ts";
import { RcCallError } from "./rc-error.ts";
import { type Server, startServer } from "./rc-process.ts";
import type { RcloneTool } from "./run.ts";

/** A run's calls come in bursts; an unused rclone is ended after this long, and started again when needed. */
const IDLE_MS = 30_000;
/** The longest wait between two looks at a running transfer. */
const MAX_POLL_MS = 1_000;

interface JobStatus {
  finished: boolean;
  success: boolean;
  error: string;
}

/**
 * One rclone per offsite copy that does the copy's operations through its remote-control API, each
 * a loopback HTTP request rather than a new rclone (which reads rclone.conf and sets the remote up
 * again every time). Started when first needed (rc-process.ts: it ends with this process, even one
 * that is killed), and ended after a while unused.
 */
export class RcloneServer {
  private server: Promise<Server> | undefined;
  private using = 0;
  private idle: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly tool: RcloneTool) {}

  /** A call that answers at once (a listing, a deletion); throws RcCallError when rclone reports an error. */
  async call<T>(path: string, params: Record<string, unknown>, signal: AbortSignal): Promise<T> {
    return this.using_(async (s) => {
      const init = { method: "POST", body: JSON.stringify(params), headers: { "content-type": "application/json" } };
      return (await this.request(s, path, init, signal)).json() as Promise<T>;
    });
  }

  /**
   * A call that may take long (a transfer, a move that some remotes do as copy and delete), run as a
   * job and looked at as it goes: no HTTP request is held open for the length of an upload.
   */
  async job(path: string, params: Record<string, unknown>, signal: AbortSignal, onBytes?: (n: number) => void) {
    return this.using_(async () => {
      const { jobid } = await this.call<{ jobid: number }>(path, { ...params, _async: true }, signal);
      const started = Date.now();
      let counted = started;
      try {
        for (;;) {
          // Looks grow sparser as the job goes on: a short move is seen done at once, a long upload costs few.
          await sleep(Math.min(MAX_POLL_MS, Math.max(10, (Date.now() - started) / 100)), signal);
          const status = await this.call<JobStatus>("job/status", { jobid }, signal);
          if (status.finished && !status.success) throw new RcCallError(500, status.error);
          if (status.finished) return;
          if (onBytes && Date.now() - counted >= MAX_POLL_MS) {
            counted = Date.now();
            onBytes((await this.call<{ bytes: number }>("core/stats", { group: `job/${jobid}` }, signal)).bytes);
          }
        }
      } catch (e) {
        if (signal.aborted) await this.stop(jobid);
        throw e;
      }
    });
  }

  /** A small file's bytes into `dir` of `fs` under `name`, in one request. */
  async upload(fs: string, dir: string, name: string, data: Uint8Array, signal: AbortSignal): Promise<void> {
    await this.using_(async (s) => {
      const form = new FormData();
      form.append("file", new Blob([data]), name);
      const query = new URLSearchParams({ fs, remote: dir });
      await this.request(s, `operations/uploadfile?${query}`, { method: "POST", body: form }, signal);
    });
  }

  /** A file's bytes as they arrive (rclone's --rc-serve), for archives and manifests alike. */
  async *read(fs: string, key: string, signal: AbortSignal): AsyncIterable<Uint8Array> {
    try {
      const s = await this.acquire();
      const path = `[${fs}]/${key}`.split("/").map(encodeURIComponent).join("/");
      const r = await this.request(s, path, { method: "GET" }, signal);
      try {
        if (r.body) yield* r.body;
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        throw new RcCallError(500, `the transfer broke off: ${messageOf(e)}`);
      }
    } finally {
      this.release();
    }
  }

  /** Ends rclone now; the next call starts it again. */
  close(): void {
    clearTimeout(this.idle);
    const server = this.server;
    this.server = undefined;
    server?.then(
      (s) => s.child.stdin?.end(),
      () => undefined,
    );
  }

  private async request(s: Server, path: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
    let r: Response;
    try {
      r = await fetch(`${s.url}${path}`, { ...init, headers: { ...init.headers, authorization: s.auth }, signal });
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      this.close();
      const said = s.log.at(-1)?.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\s+/, "") ?? String(e);
      throw new RcCallError(0, `rclone stopped answering (${said})`);
    }
    if (r.ok) return r;
    const text = await r.text();
    let error = text.trim();
    try {
      error = String((JSON.parse(text) as { error?: unknown }).error ?? error);
    } catch {}
    throw new RcCallError(r.status, error);
  }

  private async using_<T>(work: (s: Server) => Promise<T>): Promise<T> {
    try {
      return await work(await this.acquire());
    } finally {
      this.release();
    }
  }

  /** The running rclone, started if need be; held until release, so that it is not ended as idle meanwhile. */
  private acquire(): Promise<Server> {
    clearTimeout(this.idle);
    this.using++;
    this.server ??= this.start();
    return this.server;
  }

  private release(): void {
    if (--this.using === 0) this.idle = setTimeout(() => this.close(), IDLE_MS).unref();
  }

  private start(): Promise<Server> {
    const started: Promise<Server> = startServer(this.tool, () => {
      if (this.server === started) this.server = undefined;
    });
    return started;
  }

  private async stop(jobid: number): Promise<void> {
    const signal = AbortSignal.timeout(10_000);
    try {
      await this.call("job/stop", { jobid }, signal);
      while (!(await this.call<JobStatus>("job/status", { jobid }, signal)).finished) await sleep(50, signal);
    } catch {
      // A job that cannot be stopped ends with its rclone.
      this.close();
    }
  }
}
