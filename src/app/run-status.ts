import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ensurePrivateDir, writeFileAtomic } from "../util/fs-safe.ts";
import type { OffsiteOutcome } from "./offsite-send.ts";
import type { BackupRun, ServiceOutcome } from "./run-backups.ts";

/**
 * The outcome of backup runs, kept in the state folder for `status`, `cron status` and the
 * menu: the last run as a whole, and per service its last attempt whichever run made it.
 */
export interface RunStatus {
  last_run?: BackupRun & { cron: boolean };
  services: Record<string, ServiceOutcome & { at: string }>;
  /** Per offsite copy, per service: the last upload attempt. */
  offsite: Record<string, Record<string, OffsiteOutcome & { at: string }>>;
}

const fileOf = (stateDir: string) => join(stateDir, "status.json");

export async function readRunStatus(stateDir: string): Promise<RunStatus> {
  try {
    const s = JSON.parse(await readFile(fileOf(stateDir), "utf8")) as RunStatus;
    return { services: s.services ?? {}, offsite: s.offsite ?? {}, last_run: s.last_run };
  } catch {
    return { services: {}, offsite: {} };
  }
}

export async function recordRun(stateDir: string, run: BackupRun, cron: boolean): Promise<void> {
  const status = await readRunStatus(stateDir);
  status.last_run = { ...run, cron };
  for (const r of run.results) status.services[r.service] = { ...r, at: run.finished_at };
  for (const o of run.offsite) {
    status.offsite[o.copy] ??= {};
    status.offsite[o.copy]![o.service] = { ...o, at: run.finished_at };
  }
  await ensurePrivateDir(stateDir);
  await writeFileAtomic(fileOf(stateDir), JSON.stringify(status, null, 2) + "\n");
}
