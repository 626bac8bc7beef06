import { isRegular } from "../archive/naming.ts";
import { count, formatAge, formatBytes, formatLocal } from "../util/format.ts";
import type { RestorePlan } from "./restore-plan.ts";
import { undoneRestore } from "./select-backup.ts";

/** What a restore will overwrite, shown before the typed confirmation by `restore` and the wizard alike. */
export function describeRestore(plan: RestorePlan, safety: boolean): string {
  const b = plan.backup;
  const volumes = b.manifest.volumes.map((v) => `${v.name} (${count(v.files, "file")}, ${formatBytes(v.bytes)})`);
  const lines = [
    // A safety backup holds the data a restore replaced: restoring it undoes that restore.
    ...(isRegular(b.kind) ? [] : [`Undo ${undoneRestore(b)}: put back the data it replaced`]),
    `Restore ${b.service} from ${b.id}`,
    `  backup:   ${formatLocal(b.createdAt)} (${formatAge(b.createdAt)}), ` +
      `host ${b.host}, ${formatBytes(b.bytes)}, ${b.kind}`,
    `  volumes:  ${volumes.join(", ")}`,
    "Will be overwritten:",
    ...plan.current.map((v) => {
      const changed = v.newestMtime ? `${formatLocal(v.newestMtime)} (${formatAge(v.newestMtime)})` : "never";
      return `  ${v.name}: ${formatBytes(v.kib * 1024)}, last changed ${changed}`;
    }),
    ...plan.missing.map((v) => `  ${v}: does not exist, will be created`),
    `Containers stopped and started again: ${plan.stop.join(", ") || "none running"}`,
    safetyLine(plan, safety),
  ];
  return lines.join("\n");
}

function safetyLine(plan: RestorePlan, safety: boolean): string {
  if (plan.fresh) return "No safety backup: every volume is created by this restore, so there is no data to keep.";
  if (safety) return "The current data is backed up first (kind pre-restore) and put back if the restore fails.";
  return "WARNING: --no-safety-backup: the current data will be gone for good.";
}
