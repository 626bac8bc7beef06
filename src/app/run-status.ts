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
  /** Per service: its last successful backup, and how many attempts have failed (the metrics file's). */
  last_success: Record<string, ServiceOutcome & { at: string }>;
  failures: Record<string, number>;
  /** The last notification that could not be delivered, until one reaches every target again. */
  notify_failure?: { at: string; error: string };
  /** What the last stale notification said: the same state is not told twice. */
  stale_notified?: string;
}

const fileOf = (stateDir: string) => join(stateDir, "status.json");

export async function readRunStatus(stateDir: string): Promise<RunStatus> {
  try {
    const s = JSON.parse(await readFile(fileOf(stateDir), "utf8")) as Partial<RunStatus>;
    return { ...EMPTY(), ...s };
  } catch {
    return EMPTY();
  }
}

const EMPTY = (): RunStatus => ({ services: {}, offsite: {}, last_success: {}, failures: {} });

export async function recordRun(stateDir: string, run: BackupRun, cron: boolean): Promise<RunStatus> {
  const status = await readRunStatus(stateDir);
  status.last_run = { ...run, cron };
  for (const r of run.results) {
    status.services[r.service] = { ...r, at: run.finished_at };
    if (r.ok) status.last_success[r.service] = { ...r, at: run.finished_at };
    else status.failures[r.service] = (status.failures[r.service] ?? 0) + 1;
  }
  for (const o of run.offsite) {
    status.offsite[o.copy] ??= {};
    status.offsite[o.copy]![o.service] = { ...o, at: run.finished_at };
  }
  await writeStatus(stateDir, status);
  return status;
}

/** Records a notification that could not be delivered (`status` shows it), or clears it: undefined. */
export async function recordNotifyFailure(stateDir: string, failure?: { at: string; error: string }): Promise<void> {
  const status = await readRunStatus(stateDir);
  status.notify_failure = failure;
  await writeStatus(stateDir, status);
}

export async function recordStaleNotified(stateDir: string, said: string): Promise<void> {
  const status = await readRunStatus(stateDir);
  status.stale_notified = said;
  await writeStatus(stateDir, status);
}

async function writeStatus(stateDir: string, status: RunStatus): Promise<void> {
  await ensurePrivateDir(stateDir);
  await writeFileAtomic(fileOf(stateDir), JSON.stringify(status, null, 2) + "\n");
}
