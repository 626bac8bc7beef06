import { defineCommand } from "citty";
import { problemText } from "../app/catalog.ts";
import { hostName, stateDir } from "../app/context.ts";
import { type CopyPruneResult, pruneCopy } from "../app/offsite-prune.ts";
import { type OpenCopy, openCopies } from "../app/offsite-stores.ts";
import { prune } from "../app/prune.ts";
import type { RetentionEntry } from "../retention/plan.ts";
import { interrupt } from "../terminal/interrupt.ts";
import { logger } from "../terminal/log.ts";
import { messageOf, OperationError } from "../util/errors.ts";
import { count } from "../util/format.ts";
import { configArgs, jsonArg, loadConfig, printJson } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "prune",
    description: "Delete this host's backups that retention (retention_days/keep_last or retention:) does not keep",
  },
  args: {
    "dry-run": { type: "boolean", description: "show what would be deleted, delete nothing" },
    ...configArgs,
    ...jsonArg,
  },
  async run({ args }) {
    const { config } = loadConfig(args);
    const dryRun = Boolean(args["dry-run"]);
    // Keys are looked up first: a copy without them is a configuration error before anything is deleted.
    const copies = await openCopies(config.offsite);
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
    const offsite = await pruneCopies(copies, dryRun);
    if (args.json) {
      const rows = (list: RetentionEntry[], reasons: Map<string, string>) =>
        list.map((b) => ({
          id: b.id,
          service: b.service,
          host: b.host,
          ...("file" in b ? { file: b.file } : {}),
          reason: reasons.get(b.id),
        }));
      printJson({
        dry_run: dryRun,
        removed: rows(plan.remove, plan.reasons),
        kept: rows(plan.keep, plan.reasons),
        temp_files: staleTemp,
        completed,
        offsite: Object.fromEntries(
          offsite.done.map((r) => [
            r.copy,
            {
              removed: rows(r.plan.remove, r.plan.reasons),
              kept: rows(r.plan.keep, r.plan.reasons),
              aborted_uploads: r.aborted,
            },
          ]),
        ),
      });
    }
    if (offsite.failed.length > 0)
      throw new OperationError(`retention failed for offsite copy ${offsite.failed.join(", ")}`);
  },
});

/** Each copy's retention with its own settings, said per copy; a copy that fails does not stop the others. */
async function pruneCopies(copies: OpenCopy[], dryRun: boolean) {
  const done: CopyPruneResult[] = [];
  const failed: string[] = [];
  const verb = dryRun ? "would remove" : "removed";
  for (const { copy, store } of copies) {
    const warn = (m: string) => logger.warn(`${copy.name}: ${m}`);
    try {
      const r = await pruneCopy(copy, store, hostName(), stateDir(), { dryRun, signal: interrupt.signal, warn });
      for (const p of r.problems) logger.warn(problemText(p));
      for (const b of r.plan.remove) logger.info(`${copy.name}: ${verb} ${b.id} (${r.plan.reasons.get(b.id)})`);
      for (const key of r.aborted) logger.info(`${copy.name}: aborted the unfinished upload of ${key}`);
      logger.info(`${copy.name}: ${verb} ${count(r.plan.remove.length, "backup")}, kept ${r.plan.keep.length}`);
      done.push(r);
    } catch (e) {
      if (interrupt.signal.aborted) throw e;
      logger.error(messageOf(e));
      failed.push(copy.name);
    }
  }
  return { done, failed };
}
