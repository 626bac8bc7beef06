/**
 * A real S3 server on loopback for the offsite tests: @20minutes/s3rver (it verifies SigV4
 * signatures) in a Node child process started by tests/helpers/s3-launcher.mjs.
 * The child exits when our end of its stdin closes, so a dying test runner leaves nothing behind.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

const LAUNCHER = path.join(import.meta.dir, "s3-launcher.mjs");

export interface S3ServerOptions {
  buckets?: string[];
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Storage folder; a temporary one (removed by stop) when absent. */
  dir?: string;
  /** 0 or absent: a free port. */
  port?: number;
  /** Let unsigned requests through as s3rver does by default (they get AccessDenied otherwise). */
  allowAnonymous?: boolean;
}

export interface S3Server {
  /** http://127.0.0.1:PORT, for path-style addressing. */
  endpoint: string;
  port: number;
  dir: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The server process's id (a new one after restart). */
  readonly pid: number;
  createBucket(name: string): Promise<void>;
  /** Removes the bucket with everything in it. */
  deleteBucket(name: string): Promise<void>;
  /** Stops the server and starts it again on the same port and folder (a server restart). */
  restart(): Promise<void>;
  /** Ends the child process and removes a temporary storage folder; safe to call twice. */
  stop(): Promise<void>;
}

interface Child {
  proc: ChildProcessWithoutNullStreams;
  port: number;
  call(op: string, name: string): Promise<void>;
  end(): Promise<void>;
}

async function launch(config: Record<string, unknown>): Promise<Child> {
  // The legacy OpenSSL provider holds DES, which s3rver's listing continuation tokens use.
  const args = ["--openssl-legacy-provider", LAUNCHER, JSON.stringify(config)];
  const proc = spawn("node", args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const pending = new Map<number, (reply: { ok: boolean; error?: string }) => void>();
  let nextId = 1;
  const port = await new Promise<number>((resolve, reject) => {
    exited.then(() => reject(new Error(`s3rver exited before listening: ${stderr.trim()}`)));
    createInterface({ input: proc.stdout }).on("line", (line) => {
      const msg = JSON.parse(line);
      if (msg.ready) resolve(msg.port);
      else pending.get(msg.id)?.(msg);
    });
  });
  const call = (op: string, name: string) =>
    new Promise<void>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (reply) => {
        pending.delete(id);
        reply.ok ? resolve() : reject(new Error(`${op} ${name}: ${reply.error}`));
      });
      proc.stdin.write(`${JSON.stringify({ id, op, name })}\n`);
    });
  const end = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.stdin.end();
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  return { proc, port, call, end };
}

export async function startS3Server(opts: S3ServerOptions = {}): Promise<S3Server> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "tbtest-s3-"));
  const config = {
    dir,
    port: opts.port ?? 0,
    buckets: opts.buckets ?? [],
    accessKeyId: opts.accessKeyId ?? "TESTKEYID",
    secretAccessKey: opts.secretAccessKey ?? "test-secret-key",
    allowAnonymous: opts.allowAnonymous ?? false,
  };
  let child = await launch(config);
  config.port = child.port;
  // Later starts reuse the folder, so buckets created since must not be created again.
  config.buckets = [];
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${child.port}`,
    port: child.port,
    dir,
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    get pid() {
      return child.proc.pid ?? 0;
    },
    createBucket: (name) => child.call("createBucket", name),
    deleteBucket: (name) => child.call("deleteBucket", name),
    async restart() {
      await child.end();
      child = await launch(config);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await child.end();
      if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
