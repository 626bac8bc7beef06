/**
 * The loopback S3 server of the offsite measurement (the tests' s3-launcher.mjs under Node) and what both clients
 * need to reach it: a bucket, a key pair, and its CPU time, read from /proc, to see which side of
 * an upload is busy.
 */
import path from "node:path";
import { tempDir } from "./docker.ts";
import { processCpuMs } from "./docker-cpu.ts";
import { start } from "./proc.ts";

/** The tests' launcher: the same server, credentials enforced, listings paged as S3 pages them. */
const LAUNCHER = path.join(import.meta.dir, "..", "tests", "helpers", "s3-launcher.mjs");

export interface S3Server {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Where the server keeps its objects: removing a prefix's folder empties it between runs. */
  dir: string;
  /** User + system CPU milliseconds of the server so far. */
  cpuMs(): number;
  stop(): Promise<void>;
}

export async function startS3(): Promise<S3Server> {
  const dir = tempDir("s3");
  const bucket = "tbbench";
  const keys = { accessKeyId: "TBBENCHKEY", secretAccessKey: "tbbench-secret" };
  const config = { dir, port: 0, buckets: [bucket], ...keys };
  const { child, done } = start("node", ["--openssl-legacy-provider", LAUNCHER, JSON.stringify(config)], {
    stdin: "pipe",
  });
  const port = await new Promise<number>((resolve, reject) => {
    let seen = "";
    child.stdout!.on("data", (b: Buffer) => {
      seen += b.toString();
      const ready = /\{"ready":true,"port":(\d+)\}/.exec(seen);
      if (ready) resolve(Number(ready[1]));
    });
    void done.then((r) => reject(new Error(`the S3 server exited before it was ready: ${r.stderr.trim()}`)));
  });
  const pid = child.pid!;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    ...keys,
    dir,
    cpuMs: () => processCpuMs(pid),
    async stop() {
      // The launcher closes when its stdin does.
      child.stdin!.end();
      await done;
    },
  };
}
