import type { BackupKind } from "../archive/naming.ts";
import type { Service } from "../config/service-config.ts";
import { messageOf } from "../util/errors.ts";
import { sealingKeys } from "./archive-sealing.ts";
import { backupService } from "./backup.ts";
import { backupDirProblem } from "./backup-dir.ts";
import { lockOptions, type RunContext } from "./context.ts";
import { withServiceLock } from "./lock.ts";
import { reasonOf } from "./offsite-orphans.ts";
import { pruneCopy } from "./offsite-prune.ts";
import { type OffsiteOutcome, sendToCopies } from "./offsite-send.ts";
import { type OpenCopy, openCopies } from "./offsite-stores.ts";
import { prune } from "./prune.ts";

export interface ServiceOutcome {
  service: string;
  ok: boolean;
  error?: string;
  id?: string;
  file?: string;
  bytes: number;
  durationMs: number;
  downtimeMs: number;
}

export interface BackupRun {
  started_at: string;
  finished_at: string;
  results: ServiceOutcome[];
  /** Per service and offsite copy: what was uploaded, or why not. */
  offsite: OffsiteOutcome[];
  /** Ids retention removed; from an offsite copy as "COPY:ID". */
  pruned: string[];
}

export function failedOutcome(service: string, error: unknown, durationMs = 0): ServiceOutcome {
  return { service, ok: false, error: messageOf(error), bytes: 0, durationMs, downtimeMs: 0 };
}

/**
 * Backs up each service in turn; one failing service does not stop the others.
 * An interruption stops the loop (after that service's own cleanup) and is rethrown.
 */
export async function runBackups(
  ctx: RunContext,
  services: Service[],
  kind: BackupKind,
  opts: { wait: boolean },
): Promise<BackupRun> {
  const started = new Date();
  // Keys are looked up before any container stops: a copy without them is a configuration error,
  // and so is an identity file that new archives would be sealed to and that cannot be read.
  const copies = await openCopies(ctx.config.offsite);
  if (ctx.config.encryption) await sealingKeys(ctx.config.encryption);
  const results: ServiceOutcome[] = [];
  for (const service of services) {
    // After a signal no further service is touched, not even stopped for a moment.
    ctx.signal.throwIfAborted();
    const t0 = Date.now();
    try {
      const r = await withServiceLock(ctx.stateDir, service, lockOptions(ctx, service.name, opts.wait), () =>
        backupService(ctx, service, kind),
      );
      const m = r.manifest;
      results.push({
        service: service.name,
        ok: true,
        id: m.id,
        file: r.file,
        bytes: m.archive.bytes,
        durationMs: m.duration_ms,
        downtimeMs: m.downtime_ms,
      });
    } catch (e) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      results.push(failedOutcome(service.name, e, Date.now() - t0));
    }
  }
  // Without backup_dir every backup already failed with that reason: retention would only repeat it.
  const retained = (await backupDirProblem(ctx.config.backupDir)) ? [] : services;
  const made = new Set(results.flatMap((r) => (r.ok && r.id ? [r.id] : [])));
  const offsite = await sendToCopies(ctx, copies, retained, opts.wait, made);
  const pruned: string[] = [];
  for (const service of retained) pruned.push(...(await retain(ctx, copies, service.name)));
  return { started_at: started.toISOString(), finished_at: new Date().toISOString(), results, offsite, pruned };
}

/** Retention of one service in backup_dir and in each copy: housekeeping, whose failure is a warning. */
async function retain(ctx: RunContext, copies: OpenCopy[], service: string): Promise<string[]> {
  const pruned: string[] = [];
  const skipped = (where: string) => (e: unknown) => {
    if (ctx.signal.aborted) throw e;
    ctx.reporter.warn(service, `${where}retention skipped: ${reasonOf(e)}`);
  };
  await prune(ctx.config, ctx.host, { dryRun: false, service }).then(
    ({ plan }) => void pruned.push(...plan.remove.map((b) => b.id)),
    skipped(""),
  );
  for (const { copy, store } of copies) {
    const warn = (m: string) => ctx.reporter.warn(service, `${copy.name}: ${m}`);
    const opts = { dryRun: false, service, signal: ctx.signal, warn };
    await pruneCopy(copy, store, ctx.host, ctx.stateDir, opts).then(
      ({ plan }) => void pruned.push(...plan.remove.map((b) => `${copy.name}:${b.id}`)),
      skipped(`${copy.name}: `),
    );
  }
  return pruned;
}
