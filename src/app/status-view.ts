import type { BackupConfig } from "../config/backup-config.ts";
import { messageOf } from "../util/errors.ts";
import { readCatalogOrProblem } from "./catalog.ts";
import { hostName, stateDir } from "./context.ts";
import { type ServiceHealth, serviceHealth } from "./health.ts";
import { readRemoteCatalog } from "./offsite-catalog.ts";
import { openCopies } from "./offsite-stores.ts";
import { readRunStatus } from "./run-status.ts";

/**
 * What `status` and the menu's header show: per enabled service, in backup.yaml's order, how
 * recent its newest backup from this machine is and how its last attempt went. Without
 * backup_dir no service has a backup, and backupDirProblem says why.
 */
export async function enabledHealth(config: BackupConfig, maxAgeMs: number) {
  const enabled = Object.entries(config.services)
    .filter(([, on]) => on)
    .map(([n]) => n);
  const [catalog, status] = await Promise.all([readCatalogOrProblem(config.backupDir), readRunStatus(stateDir())]);
  const { backups, backupDirProblem, unreadable } = catalog;
  return { rows: serviceHealth(enabled, backups, status.services, hostName(), maxAgeMs), backupDirProblem, unreadable };
}

/** One enabled service in one offsite copy: its newest copy's age, or why the copy could not be read. */
export interface CopyHealth extends ServiceHealth {
  copy: string;
  /** The copy could not be listed: its state is unknown, which a monitor must hear about. */
  error: string | null;
}

/**
 * `status` for the offsite copies: per copy and enabled service, how recent this machine's newest
 * whole copy is, and how its last upload went. A copy that cannot be listed counts as stale.
 */
export async function offsiteHealth(config: BackupConfig, maxAgeMs: number, signal: AbortSignal) {
  const enabled = Object.entries(config.services)
    .filter(([, on]) => on)
    .map(([n]) => n);
  const [copies, status] = await Promise.all([openCopies(config.offsite), readRunStatus(stateDir())]);
  const perCopy = await Promise.all(
    copies.map(async ({ copy, store }): Promise<CopyHealth[]> => {
      const attempts = status.offsite[copy.name] ?? {};
      try {
        const { backups } = await readRemoteCatalog(store, signal);
        return serviceHealth(enabled, backups, attempts, hostName(), maxAgeMs).map((h) => ({
          ...h,
          copy: copy.name,
          error: null,
        }));
      } catch (e) {
        if (signal.aborted) throw e;
        const unknown = serviceHealth(enabled, [], attempts, hostName(), maxAgeMs);
        return unknown.map((h) => ({ ...h, copy: copy.name, error: messageOf(e) }));
      }
    }),
  );
  return perCopy.flat();
}
