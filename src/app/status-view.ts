import type { BackupConfig } from "../config/backup-config.ts";
import { readCatalogOrProblem } from "./catalog.ts";
import { hostName, stateDir } from "./context.ts";
import { serviceHealth } from "./health.ts";
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
  return { rows: serviceHealth(enabled, backups, status, hostName(), maxAgeMs), backupDirProblem, unreadable };
}
