/**
 * A second S3 client, independent of the product's: Debian's rclone with its s3 backend, set up
 * only through RCLONE_CONFIG_<REMOTE>_* variables (no config file). Tests read back what the
 * product uploaded with it, and plant or remove objects the product did not write.
 */
import { createHash } from "node:crypto";

/** The rclone remote name; `${REMOTE}:bucket/key` addresses an object in `run`. */
export const REMOTE = "TBS3";

export interface S3Target {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
}

export interface RcloneResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ObjectEntry {
  key: string;
  size: number;
}

export interface RcloneClient {
  /** rclone with these arguments and only this target's configuration; never throws on exit codes. */
  run(args: string[], stdin?: string | Uint8Array): Promise<RcloneResult>;
  /** Every object under bucket/prefix (a folder path, "" for all), with full keys, sorted by key. */
  list(bucket: string, prefix?: string): Promise<ObjectEntry[]>;
  /** Hex sha256 of an object's bytes, streamed. */
  sha256(bucket: string, key: string): Promise<string>;
  putFile(bucket: string, key: string, file: string): Promise<void>;
  putString(bucket: string, key: string, text: string | Uint8Array): Promise<void>;
  delete(bucket: string, key: string): Promise<void>;
  bucketExists(bucket: string): Promise<boolean>;
}

/**
 * The environment for one rclone call: ours without AWS_* and RCLONE_* variables (rclone 1.60
 * fails when AWS_CA_BUNDLE is set), plus the remote's settings for a path-style S3 endpoint.
 */
export function rcloneEnv(t: S3Target): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("AWS_") && !k.startsWith("RCLONE_")) env[k] = v;
  }
  const p = `RCLONE_CONFIG_${REMOTE}_`;
  Object.assign(env, {
    RCLONE_CONFIG: "/dev/null",
    [`${p}TYPE`]: "s3",
    [`${p}PROVIDER`]: "Other",
    [`${p}ENV_AUTH`]: "false",
    [`${p}ACCESS_KEY_ID`]: t.accessKeyId,
    [`${p}SECRET_ACCESS_KEY`]: t.secretAccessKey,
    [`${p}ENDPOINT`]: t.endpoint,
    [`${p}REGION`]: t.region ?? "us-east-1",
    [`${p}FORCE_PATH_STYLE`]: "true",
    // Uploading into a missing bucket must fail, as the product would see it, not create it.
    [`${p}NO_CHECK_BUCKET`]: "true",
  });
  return env;
}

// Few retries and short timeouts: a refused or broken request should fail a test quickly.
const FLAGS = ["--retries", "1", "--low-level-retries", "1", "--contimeout", "5s", "--timeout", "30s"];

function failed(what: string, r: RcloneResult): Error {
  return new Error(`rclone ${what} failed (exit ${r.code}): ${r.stderr.trim()}`);
}

export function rcloneClient(t: S3Target): RcloneClient {
  const env = rcloneEnv(t);
  const spawn = (args: string[], stdin: "pipe" | "ignore") =>
    Bun.spawn(["rclone", ...FLAGS, ...args], { env, stdin, stdout: "pipe", stderr: "pipe" });

  const run = async (args: string[], input?: string | Uint8Array): Promise<RcloneResult> => {
    const proc = spawn(args, input === undefined ? "ignore" : "pipe");
    if (input !== undefined && proc.stdin) {
      proc.stdin.write(input);
      proc.stdin.end();
    }
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { code, stdout, stderr };
  };
  const must = async (what: string, args: string[], input?: string | Uint8Array) => {
    const r = await run(args, input);
    if (r.code !== 0) throw failed(what, r);
    return r;
  };
  const obj = (bucket: string, key: string) => `${REMOTE}:${bucket}/${key}`;

  return {
    run,
    async list(bucket, prefix = "") {
      const dir = prefix.replace(/\/+$/, "");
      const r = await must("lsjson", ["lsjson", "-R", "--files-only", `${REMOTE}:${bucket}/${dir}`]);
      const entries = JSON.parse(r.stdout) as { Path: string; Size: number }[];
      return entries
        .map((e) => ({ key: dir ? `${dir}/${e.Path}` : e.Path, size: e.Size }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async sha256(bucket, key) {
      const proc = spawn(["cat", obj(bucket, key)], "ignore");
      const hash = createHash("sha256");
      const stderr = new Response(proc.stderr).text();
      for await (const chunk of proc.stdout) hash.update(chunk);
      const code = await proc.exited;
      if (code !== 0) throw failed(`cat ${bucket}/${key}`, { code, stdout: "", stderr: await stderr });
      return hash.digest("hex");
    },
    async putFile(bucket, key, file) {
      await must("copyto", ["copyto", file, obj(bucket, key)]);
    },
    async putString(bucket, key, text) {
      await must("rcat", ["rcat", obj(bucket, key)], text);
    },
    async delete(bucket, key) {
      await must("deletefile", ["deletefile", obj(bucket, key)]);
    },
    async bucketExists(bucket) {
      const r = await must("lsjson", ["lsjson", "--dirs-only", `${REMOTE}:`]);
      return (JSON.parse(r.stdout) as { Path: string }[]).some((e) => e.Path === bucket);
    },
  };
}
