import { homedir } from "node:os";
import type { OffsiteCopy } from "../config/offsite-config.ts";
import { UsageError } from "../util/errors.ts";
import type { Store } from "./store.ts";

/** Seconds a request to an offsite copy may go without an answer, unless TOOLS_BACKUP_OFFSITE_TIMEOUT says. */
const TIMEOUT_SECONDS = 60;

export function offsiteTimeout(env: Record<string, string | undefined>): number {
  const raw = env.TOOLS_BACKUP_OFFSITE_TIMEOUT;
  if (raw === undefined || raw === "") return TIMEOUT_SECONDS;
  const seconds = Number(raw);
  if (!/^\d+$/.test(raw) || seconds < 1)
    throw new UsageError(`TOOLS_BACKUP_OFFSITE_TIMEOUT must be a whole number of seconds (got "${raw}")`);
  return seconds;
}

/**
 * The store behind one offsite copy, its keys looked up (or rclone and its remote checked) now.
 * Each client is loaded only here, so a configuration without offsite copies never pays for it.
 */
export async function openStore(
  copy: OffsiteCopy,
  env: Record<string, string | undefined> = process.env,
  home: string = homedir(),
): Promise<Store> {
  const timeout = offsiteTimeout(env);
  if (copy.kind === "rclone") {
    const { rcloneFor } = await import("./rclone/tool.ts");
    const { RcloneStore } = await import("./rclone/rclone-store.ts");
    return new RcloneStore(copy, await rcloneFor(copy, timeout, AbortSignal.timeout(timeout * 1000)));
  }
  const { resolveCredentials } = await import("./s3/credentials.ts");
  const { S3Store } = await import("./s3/s3-store.ts");
  const source = { copy: copy.name, file: copy.credentials, profile: copy.profile };
  return new S3Store(copy, await resolveCredentials(source, env, home), timeout);
}

/**
 * Whether a scheduled run would find this copy's keys: cron passes no AWS_* variables, so keys
 * that only the environment holds work by hand and fail every night.
 */
export async function keysFoundUnderCron(copy: OffsiteCopy, home: string = homedir()): Promise<boolean> {
  // rclone reads its own rclone.conf, which cron's HOME finds as a run by hand does.
  if (copy.kind === "rclone") return true;
  const { resolveCredentials } = await import("./s3/credentials.ts");
  const source = { copy: copy.name, file: copy.credentials, profile: copy.profile };
  return resolveCredentials(source, {}, home).then(
    () => true,
    () => false,
  );
}
