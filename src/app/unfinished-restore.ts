import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { OperationError } from "../util/errors.ts";
import { ensurePrivateDir, writeFileAtomic } from "../util/fs-safe.ts";

/**
 * Volumes a restore left partly written: it was killed while replacing them (or while a
 * lifecycle.restore script ran), or it failed with no safety backup to put back, or putting that
 * back failed too. Until a restore of the service completes, a backup would save the damage as
 * good data, and retention would let it push the good backups out; so backups of the service
 * refuse, and say how to resolve it.
 */
export interface UnfinishedRestore {
  service: string;
  started_at: string;
  /** The backup the restore was writing. */
  restoring?: string;
  /** The data from before the restore, when a safety backup was taken. */
  safety_backup?: string;
  why: string;
}

export function unfinishedFile(stateDir: string, service: string): string {
  return join(stateDir, "unfinished-restore", `${service}.json`);
}

export async function markUnfinished(stateDir: string, mark: UnfinishedRestore): Promise<void> {
  await ensurePrivateDir(join(stateDir, "unfinished-restore"));
  await writeFileAtomic(unfinishedFile(stateDir, mark.service), JSON.stringify(mark, null, 2) + "\n");
}

export async function clearUnfinished(stateDir: string, service: string): Promise<void> {
  await rm(unfinishedFile(stateDir, service), { force: true });
}

/** The record of an unfinished restore of `service`, if any; an unreadable one still counts. */
export async function readUnfinished(stateDir: string, service: string): Promise<UnfinishedRestore | undefined> {
  const file = unfinishedFile(stateDir, service);
  try {
    return JSON.parse(await readFile(file, "utf8")) as UnfinishedRestore;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return { service, started_at: "?", why: `its record ${file} is unreadable` };
  }
}

/** Throws while a restore of `service` is unfinished: what happened, and the ways out. */
export async function refuseIfUnfinished(stateDir: string, service: string): Promise<void> {
  const mark = await readUnfinished(stateDir, service);
  if (!mark) return;
  const file = unfinishedFile(stateDir, service);
  const ways = [
    mark.safety_backup &&
      `go back to the data from before it: tools-backup restore ${service} --from ${mark.safety_backup}`,
    mark.restoring && `finish it: tools-backup restore ${service} --from ${mark.restoring}`,
    `or, if the data is right as it is, delete ${file}`,
  ].filter(Boolean);
  throw new OperationError(
    `the restore of ${service} started ${mark.started_at} did not finish (${mark.why}), ` +
      "so its volumes may be partly written; " +
      "no backup is taken until that is resolved, so that partial data cannot take the place of good backups. " +
      ways.join("; "),
  );
}
