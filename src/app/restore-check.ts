import { stat } from "node:fs/promises";
import { restoreEntryCheck } from "../archive/restore-rules.ts";
import { verifyArchive } from "../archive/verify.ts";
import type { Service } from "../config/service-config.ts";
import { AgeHeaderError } from "../encryption/age-header.ts";
import { OperationError } from "../util/errors.ts";
import { requireKeys } from "./archive-keys.ts";
import type { Backup } from "./catalog.ts";
import type { RunContext } from "./context.ts";

/** The archive itself is damaged: another copy of the same backup may not be. */
export class DamagedArchive extends OperationError {}

/** Refuses, before anything is touched, an archive that is damaged or not this service's. */
export async function checkRestorable(ctx: RunContext, service: Service, backup: Backup): Promise<void> {
  if (service.lifecycle.backup && !service.lifecycle.restore) {
    throw new OperationError(
      `${service.name} is backed up by its own script (lifecycle.backup) but has no lifecycle.restore, ` +
        "so tools-backup cannot restore it",
    );
  }
  if (backup.manifest.service !== service.name)
    throw new OperationError(`${backup.id} is a backup of ${backup.manifest.service}, not ${service.name}`);
  if (!service.lifecycle.restore) {
    const declared = service.volumes.map((v) => v.name).sort();
    const archived = backup.manifest.volumes.map((v) => v.name).sort();
    if (declared.join("\0") !== archived.join("\0")) {
      throw new OperationError(
        `${backup.id} holds volumes ${archived.join(", ")} but ${service.name} declares ${declared.join(", ")}; ` +
          "refusing a partial or foreign restore",
      );
    }
  }
  const keys = await requireKeys(ctx.config, backup).catch((e) => {
    throw e instanceof AgeHeaderError ? new DamagedArchive(`cannot be restored: ${e.message}`) : e;
  });
  ctx.reporter.step(service.name, `verifying ${backup.file}`);
  const t0 = Date.now();
  const result = await verifyArchive(backup.file, backup.manifest, {
    signal: ctx.signal,
    keys,
    onEntry: restoreEntryCheck(backup.manifest),
    keepCached: true,
    onBytes: (n) => ctx.reporter.progress(service.name, n, Date.now() - t0, { verb: "verifying", total: backup.bytes }),
  });
  if (!result.ok) throw new DamagedArchive(`${backup.file} cannot be restored: ${result.problems.join("; ")}`);
}

/**
 * The archive was verified before the summary and the typed RESTORE; a backup's retention may
 * have removed it since (while the user read, or this run waited for the lock).
 */
export async function stillThere(backup: Backup): Promise<void> {
  const size = await stat(backup.file).then(
    (s) => s.size,
    () => undefined,
  );
  if (size !== backup.bytes) {
    throw new OperationError(`${backup.file} was removed or changed after it was verified; nothing was changed`);
  }
}
