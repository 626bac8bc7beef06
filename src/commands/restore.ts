import { defineCommand } from "citty";
import { configArgs, context, loadConfig, positionals } from "./_shared.ts";
import { loadService } from "../config/service-config.ts";
import { readCatalog } from "../engine/catalog.ts";
import { selectBackup } from "../engine/select-backup.ts";
import { planRestore, type RestorePlan } from "../engine/restore-plan.ts";
import { checkRestorable, restoreService } from "../engine/restore.ts";
import { withServiceLock } from "../engine/lock.ts";
import { lockOptions } from "../engine/context.ts";
import { OperationError, UsageError } from "../errors.ts";
import { isInteractive } from "../cli/terminal.ts";
import { typedConfirmation } from "../cli/confirm.ts";
import { logger } from "../cli/log.ts";
import { formatAge, formatBytes, formatLocal } from "../util/format.ts";

export default defineCommand({
  meta: { name: "restore", description: "Replace a service's volumes with a backup (asks you to type RESTORE)" },
  args: {
    service: { type: "positional", required: true, description: "service to restore", valueHint: "SERVICE" },
    from: { type: "string", default: "latest", description: "latest, a date YYYY-MM-DD (that day's newest) or a backup id", valueHint: "WHICH" },
    yes: { type: "boolean", description: "do not ask; required without a terminal" },
    "dry-run": { type: "boolean", description: "show the plan and run the checks, change nothing" },
    "safety-backup": { type: "boolean", default: true, description: "back up the current data first (--no-safety-backup to skip)" },
    wait: { type: "boolean", description: "wait for a running backup or restore of the service instead of failing" },
    ...configArgs,
  },
  async run({ args }) {
    const loaded = loadConfig(args);
    const [name] = positionals(args);
    const service = loadService(loaded.root, name!);
    const dryRun = Boolean(args["dry-run"]);
    if (!args.yes && !dryRun && !isInteractive()) {
      throw new UsageError(`restore overwrites the data of ${service.name} and needs a confirmation: run it on a terminal, or pass --yes`);
    }
    const { backups } = await readCatalog(loaded.config.backupDir, service.name);
    const backup = selectBackup(backups, service.name, args.from ?? "latest");
    const ctx = context(loaded);
    const plan = await planRestore(service, backup);
    logger.log(describe(plan, Boolean(args["safety-backup"])));
    if (dryRun) {
      await checkRestorable(ctx, service, backup);
      logger.success(`dry run: ${backup.id} passed every check; nothing was changed`);
      return;
    }
    if (!args.yes && !(await typedConfirmation(`This replaces ALL current data of ${service.name}.`))) {
      throw new OperationError("restore aborted: nothing was changed");
    }
    const result = await withServiceLock(ctx.stateDir, service.name, lockOptions(ctx, service.name, Boolean(args.wait)), () =>
      restoreService(ctx, service, backup, { safetyBackup: Boolean(args["safety-backup"]) }),
    );
    logger.success(`${service.name} restored from ${backup.id}${result.restarted.length ? `; started ${result.restarted.join(", ")}` : ""}`);
    if (result.safety) logger.info(`the data from before the restore is kept as ${result.safety.manifest.id} (${result.safety.file})`);
  },
});

function describe(plan: RestorePlan, safety: boolean): string {
  const b = plan.backup;
  const lines = [
    `Restore ${b.service} from ${b.id}`,
    `  backup:   ${formatLocal(b.createdAt)} (${formatAge(b.createdAt)}), host ${b.host}, ${formatBytes(b.bytes)}, ${b.kind}`,
    `  volumes:  ${b.manifest.volumes.map((v) => `${v.name} (${v.files} files, ${formatBytes(v.bytes)})`).join(", ")}`,
    "Will be overwritten:",
    ...plan.current.map((v) => `  ${v.name}: ${formatBytes(v.kib * 1024)}, last changed ${v.newestMtime ? `${formatLocal(v.newestMtime)} (${formatAge(v.newestMtime)})` : "never"}`),
    ...plan.missing.map((v) => `  ${v}: does not exist, will be created`),
    `Containers stopped and started again: ${plan.stop.join(", ") || "none running"}`,
    safety ? "The current data is backed up first (kind pre-restore) and put back if the restore fails." : "WARNING: --no-safety-backup: the current data will be gone for good.",
  ];
  return lines.join("\n");
}
