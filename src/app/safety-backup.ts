import type { Service } from "../config/service-config.ts";
import { messageOf, OperationError } from "../util/errors.ts";
import { backupService } from "./backup.ts";
import type { BackupResult } from "./backup-files.ts";
import type { RunContext } from "./context.ts";
import { markUnfinished } from "./unfinished-restore.ts";

/** A failed safety backup ends the restore before anything was replaced, and says so. */
export async function safetyBackup(ctx: RunContext, service: Service, restoring: string): Promise<BackupResult> {
  try {
    return await backupService(ctx, service, "pre-restore", restoring);
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    throw new OperationError(
      `the safety backup of the current data failed (${messageOf(e)}); ` +
        `nothing was replaced: ${service.name} has its data as before`,
    );
  }
}

export interface Attempt {
  started_at: string;
  restoring: string;
  safety?: BackupResult;
  /** No safety backup because every volume was created by this restore. */
  fresh?: boolean;
  /** What may be partly written, for the messages. */
  target: string;
  /** Writes the safety backup back; not abortable: a second Ctrl-C must not leave it half done. */
  putBack(safety: BackupResult): Promise<unknown>;
}

/** True when the safety backup was put back: the data is as this restore found it. */
export async function rollBack(ctx: RunContext, service: Service, attempt: Attempt, cause: unknown): Promise<boolean> {
  const why = ctx.signal.aborted ? "the restore was interrupted" : `the restore failed (${messageOf(cause)})`;
  const { safety } = attempt;
  const unfinished = (what: string) =>
    markUnfinished(ctx.stateDir, {
      service: service.name,
      started_at: attempt.started_at,
      restoring: attempt.restoring,
      safety_backup: safety?.manifest.id,
      why: what,
    });
  if (!safety) {
    const none = attempt.fresh ? "the volumes did not exist before this restore" : "--no-safety-backup";
    const partly = `so ${attempt.target} may be partly written`;
    ctx.reporter.warn(service.name, `${why}; there is no safety backup (${none}), ${partly}`);
    await unfinished(`${why}, with no safety backup`);
    return false;
  }
  ctx.reporter.warn(service.name, `${why}; putting back the data from before the restore (${safety.file})`);
  try {
    await attempt.putBack(safety);
    ctx.reporter.warn(
      service.name,
      `rolled back: ${service.name} has its previous data again; the safety backup stays at ${safety.file}`,
    );
    return true;
  } catch (e) {
    ctx.reporter.warn(
      service.name,
      `ROLLBACK FAILED (${messageOf(e)}), so ${attempt.target} may be partly written: ` +
        `restore by hand with tools-backup restore ${service.name} --from ${safety.manifest.id}`,
    );
    await unfinished(`${why}, and putting the safety backup back failed too`);
    return false;
  }
}
