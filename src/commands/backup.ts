import { defineCommand } from "citty";
import { backUpNow, type RunTeller } from "../app/backup-now.ts";
import { type BackupPreview, previewBackup, unplanned } from "../app/backup-preview.ts";
import type { RunContext } from "../app/context.ts";
import type { BackupKind } from "../archive/naming.ts";
import type { EnabledServices } from "../config/enabled-services.ts";
import type { Service } from "../config/service-config.ts";
import { sealingKeys } from "../encryption/keys.ts";
import { logger } from "../terminal/log.ts";
import { messageOf, OperationError, UsageError } from "../util/errors.ts";
import { formatBytes } from "../util/format.ts";
import { VERSION } from "../util/version.ts";
import { configArgs, context, jsonArg, loadConfig, positionals, printJson, selectServices } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "backup",
    description: "Back up services now: stop their containers, archive their volumes, start them again",
  },
  args: {
    service: {
      type: "positional",
      required: false,
      description: "services to back up (default: every service enabled in backup.yaml)",
      valueHint: "SERVICE...",
    },
    wait: {
      type: "boolean",
      description: "wait for a running backup or restore of the same service instead of failing",
    },
    cron: {
      type: "boolean",
      description: "the scheduled run: every enabled service, never prompts, records its outcome for `status`",
    },
    "dry-run": { type: "boolean", description: "show what a backup would stop, write and delete; change nothing" },
    ...configArgs,
    ...jsonArg,
  },
  async run({ args }) {
    const session = loadConfig(args);
    const names = positionals(args);
    // The schedule's own run: silently dropping a name would back up something else than asked.
    if (args.cron && names.length > 0)
      throw new UsageError(`--cron backs up every enabled service; it takes no SERVICE (got ${names.join(", ")})`);
    const { services, broken } = selectServices(session, names);
    const ctx = context(session);
    // With only identities, new archives are sealed to their public keys: an unusable file is a configuration error.
    if (ctx.config.encryption) await sealingKeys(ctx.config.encryption);
    const kind = args.cron ? "scheduled" : "manual";
    if (args["dry-run"]) return dryRun(ctx, services, broken, kind, Boolean(args.json));
    const all = [...services.map((s) => s.name), ...broken.map((b) => b.service)];
    if (args.cron) logger.info(`scheduled backup of ${all.join(", ")} (tools-backup ${VERSION})`);
    const wait = Boolean(args.wait) || Boolean(args.cron);
    const opts = { kind, wait, cron: Boolean(args.cron), broken, downWord: "down" } as const;
    const { run, failure } = await backUpNow(ctx, services, opts, tell);
    if (args.json) printJson(run);
    if (failure && broken.length > 0) throw new UsageError(failure);
    if (failure) throw new OperationError(failure);
  },
});

/** The run's outcome, logged. */
const tell: RunTeller = {
  success: (m) => logger.success(m),
  error: (m) => logger.error(m),
  info: (m) => logger.info(m),
};

type Broken = EnabledServices["broken"];

/** Each service's plan, every problem a real run would hit named; exit as that run would fail. */
async function dryRun(ctx: RunContext, services: Service[], broken: Broken, kind: BackupKind, json: boolean) {
  const previews: BackupPreview[] = [];
  for (const service of services) previews.push(await previewBackup(ctx, service, kind));
  previews.push(...broken.map((b) => unplanned(b.service, messageOf(b.error))));
  for (const p of previews) showPreview(p);
  if (json) printJson(previews);
  const failing = previews.filter((p) => p.problems.length > 0);
  const names = failing.map((p) => p.service).join(", ");
  const summary = `${failing.length} of ${previews.length} backups would fail: ${names}`;
  if (broken.length > 0) throw new UsageError(summary);
  if (failing.length > 0) throw new OperationError(summary);
}

function showPreview(p: BackupPreview): void {
  const say = (text: string) => logger.info(`${p.service}: ${text}`);
  for (const problem of p.problems) logger.error(`${p.service}: would fail: ${problem}`);
  if (p.archive === null) return;
  if (p.script) say(`would run ${p.script} (no container stopped by tools-backup)`);
  else if (p.containers.length > 0) say(`would stop ${p.containers.join(", ")}`);
  else say("would stop no container (none of the declared ones is running)");
  for (const v of p.volumes) {
    say(`volume ${v.name}: ${v.bytes === null ? "does not exist" : `${formatBytes(v.bytes)} on disk`}`);
  }
  for (const w of p.warnings) logger.warn(`${p.service}: ${w}`);
  say(`archive: ${p.archive}`);
  if (p.offsite.length > 0) say(`would then upload it to ${p.offsite.join(", ")}`);
  if (p.would_delete.length > 0) say(`retention would then delete ${p.would_delete.join(", ")}`);
  else say("retention would delete nothing");
}
