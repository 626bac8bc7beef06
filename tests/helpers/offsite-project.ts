/**
 * A project with one service (a volume and the container using it) and one offsite copy "b2" in
 * a bucket of the test S3 server, its keys in a 0600 credentials file outside backup_dir and the
 * state folder. Every run of the binary is checked for the secret access key in its output.
 */
import { expect } from "bun:test";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { type RunOptions, type RunResult, run, start } from "./cli.ts";
import { createVolume, fillVolume, runContainer, uniqueName } from "./docker.ts";
import { makeProject, type Project, readJson } from "./project.ts";

export const BUCKET = "tbtest-offsite";
/** The server's secret access key: it must never show up anywhere the product writes. */
export const SECRET = "tbS3cr3t-Qx7Vk2mLp4RwZ9nB";
export const COPY = "b2";

/** AWS_* variables from the environment would be a second source of keys; the runs get none. */
const NO_AWS: Record<string, undefined> = {
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_SHARED_CREDENTIALS_FILE: undefined,
};

export interface OffsiteProject {
  p: Project;
  volume: string;
  container: string;
  /** The copy's key prefix in BUCKET, unique per project. */
  prefix: string;
  credentials: string;
  /** backup.yaml's offsite entry for b2 at this endpoint, with `extra` keys merged in. */
  copy(extra?: Record<string, unknown>): Record<string, unknown>;
  /** The binary, synchronously; its output must not hold the secret. */
  cli(args: string[], opts?: RunOptions): RunResult;
  /** The binary without blocking this process (a proxy in it must keep serving). */
  cliAsync(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** The local backups of app: manifest files, oldest first. */
  manifests(): string[];
}

export interface OffsiteOptions {
  endpoint: string;
  accessKeyId: string;
  /** A shell script filling the volume; a small file when absent. */
  fill?: string;
}

export function offsiteProject(opts: OffsiteOptions): OffsiteProject {
  const volume = createVolume();
  fillVolume(volume, opts.fill ?? "echo data > f && mkdir -p d && echo more > d/g");
  const container = runContainer(uniqueName("ctr"), [volume]);
  const prefix = uniqueName("pre");
  const p = makeProject({ services: { app: [{ name: volume, container }] } });
  const credentials = path.join(p.root, "b2.env");
  const keys = `AWS_ACCESS_KEY_ID=${opts.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${SECRET}\n`;
  fs.writeFileSync(credentials, keys, { mode: 0o600 });
  const copy = (extra: Record<string, unknown> = {}) => ({
    name: COPY,
    url: `s3://${BUCKET}/${prefix}`,
    endpoint: opts.endpoint,
    path_style: true,
    credentials,
    ...extra,
  });
  p.writeConfig({ services: { app: true }, offsite: [copy()] });
  const withState = (o: RunOptions = {}): RunOptions => ({
    stateHome: p.stateHome,
    ...o,
    env: { ...NO_AWS, TOOLS_BACKUP_OFFSITE_TIMEOUT: "10", ...o.env },
  });
  const noSecret = (r: RunResult) => {
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stderr).not.toContain(SECRET);
    return r;
  };
  return {
    p,
    volume,
    container,
    prefix,
    credentials,
    copy,
    cli: (args, o) => noSecret(run([...args, ...p.args], withState(o))),
    cliAsync: async (args, o) => noSecret(await start([...args, ...p.args], withState(o)).done),
    manifests: () =>
      fs
        .readdirSync(p.serviceFolder("app"))
        .filter((n) => n.endsWith(".json"))
        .sort()
        .map((n) => path.join(p.serviceFolder("app"), n)),
  };
}

export function fileSha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** A manifest's backup: its id, archive file name, recorded sha256, downtime and start. */
export function backupOf(manifest: string) {
  const m = readJson(manifest);
  const createdMs = Date.parse(m.created_at);
  return {
    id: m.id as string,
    archive: m.archive.file as string,
    sha256: m.archive.sha256,
    downtimeMs: m.downtime_ms,
    createdMs,
  };
}

/** Files under `dirs` (recursively) whose bytes contain the secret. */
export function filesWithSecret(...dirs: string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) walk(file);
      else if (e.isFile() && fs.readFileSync(file).includes(SECRET)) found.push(file);
    }
  };
  for (const d of dirs) walk(d);
  return found;
}
