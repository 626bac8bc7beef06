import { defineCommand } from "citty";
import { configArgs, context, jsonArg, loadConfig, positionals, printJson, selectServices } from "./_shared.ts";
import { failedOutcome, runBackups } from "../engine/run-backups.ts";
import { logger } from "../cli/log.ts";
import { formatBytes, formatDuration } from "../util/format.ts";
import { OperationError, UsageError } from "../errors.ts";
import { recordRun } from "../engine/run-status.ts";
import { VERSION } from "../version.ts";

export default defineCommand({
  meta: { name: "backup", description: "Back up services now: stop their containers, archive their volumes, start them again" },
  args: {
    service: { type: "positional", required: false, description: "services to back up (default: every service enabled in backup.yaml)", valueHint: "SERVICE..." },
    wait: { type: "boolean", description: "wait for a running backup or restore of the same service instead of failing" },
    cron: { type: "boolean", description: "the scheduled run: every enabled service, never prompts, records its outcome for `status`" },
    ...configArgs,
    ...jsonArg,
  },
  async run({ args }) {
    const loaded = loadConfig(args);
    const names = positionals(args);
    // The schedule's own run: silently dropping a name would back up something else than asked.
    if (args.cron && names.length > 0) throw new UsageError(`--cron backs up every enabled service; it takes no SERVICE (got ${names.join(", ")})`);
    const { services, broken } = selectServices(loaded, names);
    const ctx = context(loaded);
    const all = [...services.map((s) => s.name), ...broken.map((b) => b.service)];
    if (args.cron) logger.info(`scheduled backup of ${all.join(", ")} (tools-backup ${VERSION})`);
    const run = await runBackups(ctx, services, args.cron ? "scheduled" : "manual", { wait: Boolean(args.wait) || Boolean(args.cron) });
    // Recorded like any failed backup, so that `status` shows what keeps a service from its backups.
    run.results.push(...broken.map((b) => failedOutcome(b.service, b.error)));
    await recordRun(ctx.stateDir, run, Boolean(args.cron));
    for (const r of run.results) {
      if (r.ok) logger.success(`${r.service}: ${r.file} (${formatBytes(r.bytes)}, ${formatDuration(r.durationMs)}, down ${formatDuration(r.downtimeMs)})`);
      else logger.error(`${r.service}: ${r.error}`);
    }
    for (const id of run.pruned) logger.info(`retention: removed ${id}`);
    if (args.json) printJson(run);
    const failed = run.results.filter((r) => !r.ok);
    const summary = `${failed.length} of ${run.results.length} backups failed: ${failed.map((f) => f.service).join(", ")}`;
    if (broken.length > 0) throw new UsageError(summary);
    if (failed.length > 0) throw new OperationError(summary);
  },
});
