import type { Service } from "../config/service-config.ts";
import { volumeExists } from "../docker/daemon.ts";
import { armEmptying, type Emptier, type VolumeUsage, volumeUsage } from "../docker/emptier.ts";
import type { Backup } from "./catalog.ts";
import { restoreUsers } from "./containers.ts";

export interface RestorePlan {
  backup: Backup;
  /** Current content that will be replaced; `missing` volumes will be created. */
  current: VolumeUsage[];
  missing: string[];
  /** Running containers that will be stopped and started again. */
  stop: string[];
  /** Armed for the restore (`arm`) when every volume exists; the caller closes it. */
  emptier?: Emptier;
  /** Every volume will be created: there is no current data, so no safety backup is made. */
  fresh: boolean;
}

/** True when the restore creates every volume (`exist`: per declared volume): nothing to back up first. */
export function nothingToSave(service: Service, exist: boolean[]): boolean {
  return !service.lifecycle.restore && exist.length > 0 && !exist.some(Boolean);
}

/**
 * What a restore would do: shown before the typed confirmation and by --dry-run. Nothing is
 * changed; with `arm` the restore's emptying container is started too (it waits for a go), and
 * measures the volumes on its way, so the summary costs no container run of its own.
 * The caller checks the daemon first (checkDaemon), so that a stopped one is the only message.
 */
export async function planRestore(
  service: Service,
  backup: Backup,
  opts: { arm?: boolean } = {},
): Promise<RestorePlan> {
  const names = service.volumes.map((v) => v.name);
  const present: string[] = [];
  const missing: string[] = [];
  const exist = await Promise.all(names.map(volumeExists));
  for (const [i, v] of names.entries()) (exist[i] ? present : missing).push(v);
  const armed = opts.arm && !service.lifecycle.restore && present.length > 0 && missing.length === 0;
  const emptier = armed ? armEmptying(present, { measure: true }) : undefined;
  try {
    const measured = emptier?.usage ?? (present.length > 0 ? volumeUsage(present) : Promise.resolve([]));
    const [current, users] = await Promise.all([measured, restoreUsers(service.volumes)]);
    return { backup, current, missing, stop: users.running, emptier, fresh: nothingToSave(service, exist) };
  } catch (e) {
    await emptier?.close();
    throw e;
  }
}
