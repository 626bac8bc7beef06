import type { Service } from "../config/service-config.ts";
import { volumeExists } from "../docker/engine.ts";
import { volumeUsage, type VolumeUsage } from "../docker/runner.ts";
import { restoreUsers } from "./containers.ts";
import type { Backup } from "./catalog.ts";

export interface RestorePlan {
  backup: Backup;
  /** Current content that will be replaced; `missing` volumes will be created. */
  current: VolumeUsage[];
  missing: string[];
  /** Running containers that will be stopped and started again. */
  stop: string[];
}

/**
 * What a restore would do, read-only: shown before the typed confirmation and by --dry-run.
 * The caller checks the daemon first (checkDaemon), so that a stopped one is the only message.
 */
export async function planRestore(service: Service, backup: Backup): Promise<RestorePlan> {
  const names = service.volumes.map((v) => v.name);
  const present: string[] = [];
  const missing: string[] = [];
  for (const v of names) ((await volumeExists(v)) ? present : missing).push(v);
  const current = present.length > 0 ? await volumeUsage(present) : [];
  const users = await restoreUsers(service.volumes);
  return { backup, current, missing, stop: users.running };
}
