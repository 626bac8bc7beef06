import type { OffsiteCopy } from "../config/offsite-config.ts";
import type { Store } from "../offsite/store.ts";
import { planRetention, type RetentionPlan } from "../retention/plan.ts";
import type { Problem } from "./catalog.ts";
import { type RemoteBackup, readRemoteCatalog } from "./offsite-catalog.ts";
import { abortOrphans } from "./offsite-orphans.ts";

export interface CopyPruneResult {
  copy: string;
  plan: RetentionPlan<RemoteBackup>;
  problems: Problem[];
  /** Keys of this host's unfinished uploads that were aborted. */
  aborted: string[];
}

/**
 * Retention for one offsite copy, with its own settings: only this host's backups (the manifest's
 * host, as in backup_dir), never an object that is not a backup's. The manifest goes first, so an
 * interrupted prune never leaves a listed backup without its archive. Also aborts this host's
 * unfinished uploads, which servers keep (and bill) until they are.
 */
export async function pruneCopy(
  copy: OffsiteCopy,
  store: Store,
  host: string,
  stateDir: string,
  opts: { dryRun: boolean; service?: string; signal: AbortSignal; warn: (message: string) => void; now?: Date },
): Promise<CopyPruneResult> {
  const { backups, problems } = await readRemoteCatalog(store, opts.signal, opts.service);
  const plan = planRetention(
    backups.filter((b) => b.complete),
    copy.retention,
    host,
    opts.now ?? new Date(),
  );
  const aborted = opts.dryRun ? [] : await abortOrphans(store, stateDir, host, opts.service, opts.signal, opts.warn);
  if (!opts.dryRun) {
    for (const b of plan.remove) {
      await store.remove(b.manifestKey, opts.signal);
      await store.remove(b.archiveKey, opts.signal);
    }
  }
  return { copy: copy.name, plan, problems, aborted };
}
