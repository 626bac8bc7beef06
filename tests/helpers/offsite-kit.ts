/**
 * Shared set-up for the offsite end-to-end tests: a credentials file for the test S3 server, a
 * backup.yaml `offsite:` entry pointing at it, and backups planted in a copy with the rclone client.
 */
import { afterAll, afterEach, beforeAll, expect } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { cleanupCliTemp, type RunResult } from "./cli.ts";
import { cleanupDocker } from "./docker.ts";
import { cleanupApps } from "./restore-kit.ts";
import { type RcloneClient, rcloneClient } from "./s3-client.ts";
import { type S3Server, startS3Server } from "./s3-server.ts";

/** One bucket per server; each test keeps to its own prefix in it. */
export const BUCKET = "tbkt";

/**
 * A test file's S3 server with its bucket, started before its tests and stopped after them, and the
 * apps, volumes and temporary folders of each test removed after it. `ready` gets the server and a
 * client of it (rclone's) once it runs.
 */
export function useS3Server(ready: (server: S3Server, s3: RcloneClient) => void): void {
  let server: S3Server | undefined;
  beforeAll(async () => {
    server = await startS3Server({ buckets: [BUCKET] });
    ready(server, rcloneClient(server));
  });
  afterEach(() => {
    cleanupApps();
    cleanupDocker();
  });
  afterAll(async () => {
    await server?.stop();
    cleanupCliTemp();
  });
}

/** A 0600 key file in `dir` with the server's keys, as a user would write it. */
export function keyFile(dir: string, server: S3Server): string {
  const file = path.join(dir, "s3.env");
  const text = `AWS_ACCESS_KEY_ID=${server.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${server.secretAccessKey}\n`;
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
}

/** An `offsite:` entry for the test server, path-style, keys from `credentials`. */
export function copyEntry(
  server: S3Server,
  name: string,
  prefix: string,
  credentials: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    url: `s3://${BUCKET}/${prefix}`,
    endpoint: server.endpoint,
    region: "us-east-1",
    path_style: true,
    credentials,
    ...extra,
  };
}

/** Uploads a local backup into a copy with rclone the way the tool does: archive first, manifest last. */
export async function plant(
  s3: RcloneClient,
  prefix: string,
  service: string,
  backup: { file: string; manifest: string },
): Promise<void> {
  await s3.putFile(BUCKET, `${prefix}/${service}/${path.basename(backup.file)}`, backup.file);
  await s3.putFile(BUCKET, `${prefix}/${service}/${path.basename(backup.manifest)}`, backup.manifest);
}

/** Object keys under a prefix, relative to it. */
export async function keysUnder(s3: RcloneClient, prefix: string): Promise<string[]> {
  return (await s3.list(BUCKET, prefix)).map((o) => o.key.slice(prefix.length + 1));
}

/** The secret access key must never reach what a user (or a log collector) sees. */
export function expectNoSecret(server: S3Server, r: RunResult): void {
  expect(r.stdout).not.toContain(server.secretAccessKey);
  expect(r.stderr).not.toContain(server.secretAccessKey);
}
