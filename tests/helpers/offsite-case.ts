/**
 * One service with one offsite copy, for the offsite fault and error tests: a volume of random
 * (incompressible) bytes mounted by a running container, a project whose backup.yaml names one
 * S3 copy, and the binary run without blocking this process (the fault proxy lives in it).
 */

import fs from "node:fs";
import path from "node:path";
import { type RunOptions, type RunResult, start, tempDir } from "./cli.ts";
import { createVolume, fillVolume, runContainer, uniqueName } from "./docker.ts";
import { localBackups, makeProject, type Project } from "./project.ts";

export interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A 0600 credentials file as the product reads it. */
export function credentialsFile(keys: Keys): string {
  const file = path.join(tempDir("tbtest-keys-"), "s3.env");
  const text = `AWS_ACCESS_KEY_ID=${keys.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${keys.secretAccessKey}\n`;
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
}

export interface CopySpec {
  name: string;
  bucket: string;
  endpoint: string;
  credentials: string;
  /** Key prefix; a unique one when absent, so tests sharing a bucket never see each other. */
  prefix?: string;
}

export interface OffsiteCase {
  svc: string;
  volume: string;
  container: string;
  project: Project;
  /** The copy's key prefix ("" for none). */
  prefix: string;
  /** The binary with these arguments plus --config, awaited without blocking the event loop. */
  run(args: string[], opts?: RunOptions): Promise<RunResult & { ms: number }>;
  /** The local backups of the service: archive file and manifest id, oldest first. */
  localBackups(): { id: string; archive: string; manifest: string }[];
}

export function offsiteCase(copy: CopySpec, mib: number): OffsiteCase {
  const svc = uniqueName("svc").replace(/-/g, "");
  const volume = createVolume();
  fillVolume(volume, `dd if=/dev/urandom of=blob.bin bs=1M count=${mib} 2>/dev/null`);
  const container = runContainer(uniqueName("ctr"), [volume]);
  const prefix = copy.prefix ?? uniqueName("p");
  const offsite = [
    {
      name: copy.name,
      url: `s3://${copy.bucket}${prefix ? `/${prefix}` : ""}`,
      endpoint: copy.endpoint,
      region: "us-east-1",
      path_style: true,
      credentials: copy.credentials,
    },
  ];
  const project = makeProject({
    services: { [svc]: [{ name: volume, container }] },
    config: { services: { [svc]: true }, offsite },
  });
  return {
    svc,
    volume,
    container,
    project,
    prefix,
    async run(args, opts = {}) {
      const t0 = Date.now();
      const r = await start([...args, ...project.args], { stateHome: project.stateHome, ...opts }).done;
      return { ...r, ms: Date.now() - t0 };
    },
    localBackups: () => localBackups(project, svc),
  };
}

/** The journaled unfinished uploads of a copy: $XDG_STATE_HOME/tools-backup/uploads/<copy>/*.json. */
export function journaledUploads(stateHome: string, copy: string): { key: string; uploadId: string }[] {
  const folder = path.join(stateHome, "tools-backup", "uploads", copy);
  const names = fs.existsSync(folder) ? fs.readdirSync(folder).filter((n) => n.endsWith(".json")) : [];
  return names.map((n) => JSON.parse(fs.readFileSync(path.join(folder, n), "utf8")));
}

/**
 * Milliseconds from the container's restart (the local backup done) to the run's last line, read
 * from the run's timestamped stderr: the time the offsite copies took, whatever Docker took.
 */
export function offsiteMs(stderr: string, container: string): number {
  const stamps = stderr.split("\n").flatMap((l) => {
    const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (.*)$/.exec(l);
    return m ? [{ at: Date.parse(m[1]!), text: m[2]! }] : [];
  });
  const started = stamps.findLast((s) => s.text.endsWith(`: starting ${container}`));
  if (!started) throw new Error(`no "starting ${container}" line in:\n${stderr}`);
  return stamps.at(-1)!.at - started.at;
}
