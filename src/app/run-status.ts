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
  /** The last notification that could not be delivered, until every target that failed is reached again. */
  notify_failure?: NotifyFailure;
  /** What the last stale notification said: the same state is not told twice. */
  stale_notified?: string;
}

/** One target's failure to be told; `error` starts with the target's label. */
export interface TargetFailure {
  target: string;
  at: string;
  error: string;
}

/** The newest failure, and every target not reached since it failed (each with its own). */
export type NotifyFailure = TargetFailure & { pending: TargetFailure[] };

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

/**
 * Records a round of deliveries: the targets that failed join those still pending, those reached
 * leave it. A target this round did not try stays pending (it may be down still) while backup.yaml
 * has it: `configured`, the labels of its targets.
 */
export async function recordDeliveries(
  stateDir: string,
  round: { reached: string[]; failed: TargetFailure[]; configured: string[] },
): Promise<void> {
  const status = await readRunStatus(stateDir);
  const settled = new Set([...round.reached, ...round.failed.map((f) => f.target)]);
  const gone = (f: TargetFailure) => settled.has(f.target) || !round.configured.includes(f.target);
  // A Healthchecks target's start and end pings may both fail: one entry per target, its newest.
  const byTarget = new Map<string, TargetFailure>();
  for (const f of [...(status.notify_failure?.pending ?? []).filter((p) => !gone(p)), ...round.failed]) {
    byTarget.delete(f.target);
    byTarget.set(f.target, f);
  }
  const pending = [...byTarget.values()];
  const newest = pending.at(-1);
  status.notify_failure = newest && { ...newest, pending };
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
