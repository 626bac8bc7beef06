import path from "node:path";
import { confirm, select } from "@clack/prompts";
import type { Session } from "../app/session.ts";
import { endpointProblem, nameProblem, type OffsiteEntryInput, s3UrlProblem } from "../config/offsite-config.ts";
import { isRcloneUrl, rcloneUrlProblem } from "../config/offsite-rclone.ts";
import { ask, out } from "./io.ts";
import { check, keyFileProblem, line, optional, ownNumber } from "./offsite-answers.ts";

/**
 * The questions of Add and Edit, each answer checked as the loader checks it; undefined when the
 * user goes back (Esc). Add asks the kind of copy first; Edit asks the questions of the copy's kind.
 * Secrets are never asked: only where they are.
 */
export async function askEntry(
  session: Session,
  old: OffsiteEntryInput | undefined,
  taken: string[],
): Promise<OffsiteEntryInput | undefined> {
  const kind = old ? (isRcloneUrl(old.url) ? "rclone" : "s3") : await askKind();
  if (kind === undefined) return undefined;
  const name =
    old?.name ??
    (await line("Name of the copy (used in messages, list and --offsite)", undefined, (v) =>
      check("name", v, (n) => nameProblem(n, taken)),
    ));
  if (name === undefined) return undefined;
  const where = kind === "rclone" ? await askRclone(session, old) : await askS3(session, old);
  if (where === undefined) return undefined;
  const retention = await askRetention(session, old);
  return retention && { name, ...where, ...retention };
}

async function askKind(): Promise<"s3" | "rclone" | undefined> {
  return ask(
    select({
      ...out,
      message: "What kind of offsite copy?",
      options: [
        { value: "s3" as const, label: "S3 bucket", hint: "AWS, Backblaze B2, MinIO, Garage, ..." },
        { value: "rclone" as const, label: "rclone remote", hint: "Google Drive, Dropbox, SFTP, WebDAV, ..." },
      ],
    }),
  );
}

type Where = Omit<OffsiteEntryInput, "name" | "retention_days" | "keep_last">;

/** REMOTE:PATH (the `rclone:` in front is added when left out) and, optionally, which rclone.conf. */
async function askRclone(session: Session, old: OffsiteEntryInput | undefined): Promise<Where | undefined> {
  const withPrefix = (v: string) => (isRcloneUrl(v) ? v : `rclone:${v}`);
  const remote = await line(
    "rclone remote and path (REMOTE:PATH, the remote as in your rclone.conf)",
    old?.url.slice("rclone:".length),
    (v) => check("url", withPrefix(v), rcloneUrlProblem),
    { placeholder: "gdrive:Backups/tools" },
  );
  if (remote === undefined) return undefined;
  const baseDir = path.dirname(session.config.file);
  const config = await line(
    "rclone.conf to use (empty: rclone's own; chmod 600)",
    old?.rclone_config,
    (v) => check("rclone_config", v, (f) => keyFileProblem(f, baseDir)),
    { empty: true, placeholder: "~/.config/rclone/rclone.conf" },
  );
  if (config === undefined) return undefined;
  return { url: withPrefix(remote), rclone_config: optional(config) };
}

/** The bucket and how to reach it: endpoint, region, addressing and where the keys are. */
async function askS3(session: Session, old: OffsiteEntryInput | undefined): Promise<Where | undefined> {
  const url = await line("Bucket and prefix (s3://bucket/prefix)", old?.url, (v) => check("url", v, s3UrlProblem), {
    placeholder: "s3://my-bucket/tools",
  });
  if (url === undefined) return undefined;
  const endpoint = await line("S3 endpoint (empty: AWS)", old?.endpoint, (v) => check("endpoint", v, endpointProblem), {
    empty: true,
    placeholder: "https://s3.eu-central-003.backblazeb2.com",
  });
  if (endpoint === undefined) return undefined;
  const region = await line("Region (empty: us-east-1)", old?.region, (v) => check("region", v), { empty: true });
  if (region === undefined) return undefined;
  const pathStyle = await ask(
    confirm({
      ...out,
      message: "Path-style addressing (endpoint/bucket/key, for MinIO, Garage and most self-hosted servers)?",
      initialValue: old?.path_style ?? false,
    }),
  );
  if (pathStyle === undefined) return undefined;
  const keys = await askKeys(old, path.dirname(session.config.file));
  if (keys === undefined) return undefined;
  return {
    url,
    endpoint: optional(endpoint),
    region: optional(region),
    path_style: pathStyle || (old?.path_style === false ? false : undefined),
    ...keys,
  };
}

/** This copy's own retention, each empty for backup_dir's. */
async function askRetention(
  session: Session,
  old: OffsiteEntryInput | undefined,
): Promise<Pick<OffsiteEntryInput, "retention_days" | "keep_last"> | undefined> {
  const { config } = session;
  const days = await ownNumber(
    `Delete this copy's backups after how many days? (empty: ${config.retentionDays}, as backup_dir)`,
    "retention_days",
    old?.retention_days,
  );
  if (days === undefined) return undefined;
  const keep = await ownNumber(
    `Always keep how many newest backups per service in this copy? (empty: ${config.keepLast}, as backup_dir)`,
    "keep_last",
    old?.keep_last,
  );
  if (keep === undefined) return undefined;
  return { retention_days: days.value, keep_last: keep.value };
}

/** Where the copy's keys are: a 0600 credentials file (its path only), or the AWS environment and profile. */
async function askKeys(
  old: OffsiteEntryInput | undefined,
  baseDir: string,
): Promise<Pick<OffsiteEntryInput, "credentials" | "profile"> | undefined> {
  const where = await ask(
    select({
      ...out,
      message: "Where are the keys (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)?",
      initialValue: old && !old.credentials ? ("environment" as const) : ("file" as const),
      options: [
        { value: "file" as const, label: "In a credentials file", hint: "KEY=value lines, mode 0600" },
        { value: "environment" as const, label: "From the environment / ~/.aws/credentials" },
      ],
    }),
  );
  if (where === undefined) return undefined;
  if (where === "file") {
    const file = await line(
      "Credentials file (AWS_ACCESS_KEY_ID= and AWS_SECRET_ACCESS_KEY= lines, chmod 600)",
      old?.credentials,
      (v) => check("credentials", v, (f) => keyFileProblem(f, baseDir)),
      { placeholder: "~/.config/tools/s3.env" },
    );
    return file === undefined ? undefined : { credentials: file };
  }
  const profile = await line(
    "Profile of ~/.aws/credentials (empty: AWS_PROFILE, else default)",
    old?.profile,
    (v) => check("profile", v),
    { empty: true },
  );
  return profile === undefined ? undefined : { profile: optional(profile) };
}
