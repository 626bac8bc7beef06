import { defineCommand } from "citty";
import { configArgs, context, loadConfig, positionals } from "./_shared.ts";
import { loadService } from "../config/service-config.ts";
import { readCatalog } from "../engine/catalog.ts";
import { INCOMPLETE, selectBackup } from "../engine/select-backup.ts";
import { futureDatedWarning } from "../retention/future.ts";
import { logger } from "../cli/log.ts";
import { OperationError, UsageError } from "../errors.ts";
import { isInteractive } from "../cli/terminal.ts";
import { confirmAndRestore } from "../cli/restore-summary.ts";

export default defineCommand({
  meta: { name: "restore", description: "Replace a service's volumes with a backup (asks you to type RESTORE)" },
  args: {
    service: { type: "positional", required: true, description: "service to restore", valueHint: "SERVICE" },
    // No citty default: "not given" opens the backup picker on a terminal.
    from: { type: "string", description: "latest (default; on a terminal you pick from a list), a date YYYY-MM-DD (that day's newest) or a backup id", valueHint: "WHICH" },
    yes: { type: "boolean", description: "do not ask; required without a terminal" },
    "dry-run": { type: "boolean", description: "show the plan and run the checks, change nothing" },
    "safety-backup": { type: "boolean", default: true, description: "back up the current data first (--no-safety-backup to skip)" },
    wait: { type: "boolean", description: "wait for a running backup or restore of the service instead of failing" },
    ...configArgs,
  },
  async run({ args }) {
    const loaded = loadConfig(args);
    const [name, ...extra] = positionals(args);
    if (extra.length > 0) throw new UsageError(`restore takes one service, not ${[name, ...extra].join(", ")}`);
    const service = loadService(loaded.root, name!);
    const dryRun = Boolean(args["dry-run"]);
    if (!args.yes && !dryRun && !isInteractive()) {
      throw new UsageError(`restore overwrites the data of ${service.name} and needs a confirmation: run it on a terminal, or pass --yes`);
    }
    const opts = { safetyBackup: Boolean(args["safety-backup"]), wait: Boolean(args.wait), yes: Boolean(args.yes), dryRun };
    if (args.from === undefined && !args.yes && !dryRun) {
      // Loaded only here: the screens are not needed by scripted runs.
      const { restoreWizard } = await import("../tui/restore-wizard.ts");
      if (!(await restoreWizard(loaded, service.name, opts))) throw new OperationError("restore aborted: nothing was changed");
      return;
    }
    const { backups, unreadable } = await readCatalog(loaded.config.backupDir, service.name);
    for (const u of unreadable) logger.warn(u);
    const { backup, skipped, future } = selectBackup(backups, service.name, args.from ?? "latest");
    for (const b of skipped) logger.warn(`skipping ${b.id}: ${INCOMPLETE}`);
    if (future.length > 0) logger.warn(futureDatedWarning(service.name, future.map((b) => b.id), "latest passes over them; pick one by its id with --from"));
    if (!(await confirmAndRestore(context(loaded), service, backup, opts))) throw new OperationError("restore aborted: nothing was changed");
  },
});
