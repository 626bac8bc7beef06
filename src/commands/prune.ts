import { defineCommand } from "citty";
import { hostName } from "../app/context.ts";
import { prune } from "../app/prune.ts";
import { logger } from "../terminal/log.ts";
import { count } from "../util/format.ts";
import { configArgs, jsonArg, loadConfig, printJson } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "prune",
    description: "Delete this host's backups older than retention_days, keeping the newest keep_last per service",
  },
  args: {
    "dry-run": { type: "boolean", description: "show what would be deleted, delete nothing" },
    ...configArgs,
    ...jsonArg,
  },
  async run({ args }) {
    const { config } = loadConfig(args);
    const dryRun = Boolean(args["dry-run"]);
    const { plan, staleTemp, completed, unreadable } = await prune(config, hostName(), { dryRun });
    for (const u of unreadable) logger.warn(u);
    const verb = dryRun ? "would remove" : "removed";
    for (const id of completed)
      logger.info(
        `${dryRun ? "would complete" : "completed"} ${id}: ` +
          "its run was killed just before its manifest got its final name",
      );
    for (const b of plan.remove) logger.info(`${verb} ${b.id} (${plan.reasons.get(b.id)})`);
    for (const f of staleTemp) logger.info(`${verb} leftover temporary file ${f}`);
    logger.info(
      `${dryRun ? "would remove" : "removed"} ${count(plan.remove.length, "backup")}, kept ${plan.keep.length}`,
    );
    if (args.json) {
      const row = (b: (typeof plan.keep)[number]) => ({
        id: b.id,
        service: b.service,
        host: b.host,
        file: b.file,
        reason: plan.reasons.get(b.id),
      });
      printJson({
        dry_run: dryRun,
        removed: plan.remove.map(row),
        kept: plan.keep.map(row),
        temp_files: staleTemp,
        completed,
      });
    }
  },
});
