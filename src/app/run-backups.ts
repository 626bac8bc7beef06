import type { BackupKind } from "../archive/naming.ts";
import type { Service } from "../config/service-config.ts";
import { messageOf } from "../util/errors.ts";
import { backupService } from "./backup.ts";
import { backupDirProblem } from "./backup-dir.ts";
import { lockOptions, type RunContext } from "./context.ts";
import { withServiceLock } from "./lock.ts";
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
  const pruned: string[] = [];
  // Without backup_dir every backup already failed with that reason: retention would only repeat it.
  const retained = (await backupDirProblem(ctx.config.backupDir)) ? [] : services;
  for (const service of retained) {
    try {
      const { plan } = await prune(ctx.config, ctx.host, { dryRun: false, service: service.name });
      pruned.push(...plan.remove.map((b) => b.id));
    } catch (e) {
      // Retention is housekeeping: its failure must not hide what the backups did.
      ctx.reporter.warn(service.name, `retention skipped: ${messageOf(e)}`);
    }
  }
  return { started_at: started.toISOString(), finished_at: new Date().toISOString(), results, pruned };
}
