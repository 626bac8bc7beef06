import { resolve } from "node:path";
import { defineCommand } from "citty";
import { readAllBackups } from "../app/all-backups.ts";
import type { Backup } from "../app/catalog.ts";
import { confirmAndRestore, type RestoreOptions, type RestorePrompts } from "../app/confirm-restore.ts";
import { archivePath } from "../app/contents.ts";
import { extractPath } from "../app/extract.ts";
import { localBackup } from "../app/offsite-fetch.ts";
import { INCOMPLETE, selectBackup, selectUndo } from "../app/select-backup.ts";
import type { Session } from "../app/session.ts";
import { loadService } from "../config/service-config.ts";
import { futureDatedWarning } from "../retention/future.ts";
import { interrupt } from "../terminal/interrupt.ts";
import { logger } from "../terminal/log.ts";
import { showRestoreSummary, typedConfirmation } from "../terminal/restore-prompts.ts";
import { isInteractive } from "../terminal/tty.ts";
import { OperationError, UsageError } from "../util/errors.ts";
import { count, formatBytes } from "../util/format.ts";
import { configArgs, context, loadConfig, positionals, serviceFilter } from "./_shared.ts";

/**
 * The restore screens (backup picker, summary, typed RESTORE), given by whoever starts the CLI;
 * false: nothing changed.
 */
export type RestorePicker = (session: Session, service: string, opts: RestoreOptions) => Promise<boolean>;

/** The command's restore prompts: the same summary and typed RESTORE as the screens, the outcome logged. */
const prompts: RestorePrompts = {
  show: showRestoreSummary,
  confirm: typedConfirmation,
  success: (m) => logger.success(m),
  info: (m) => logger.info(m),
};

export const restoreCommand = (pickAndRestore: RestorePicker) =>
  defineCommand({
    meta: { name: "restore", description: "Replace a service's volumes with a backup (asks you to type RESTORE)" },
    args: {
      service: { type: "positional", required: true, description: "service to restore", valueHint: "SERVICE" },
      // No citty default: "not given" opens the backup picker on a terminal.
      from: {
        type: "string",
        description:
          "latest (default; on a terminal you pick from a list), a date YYYY-MM-DD (that day's newest) or a backup id",
        valueHint: "WHICH",
      },
      undo: { type: "boolean", description: "put back the data the last restore on this host replaced" },
      yes: { type: "boolean", description: "do not ask; required without a terminal" },
      "dry-run": { type: "boolean", description: "show the plan and run the checks, change nothing" },
      "safety-backup": {
        type: "boolean",
        default: true,
        description: "back up the current data first (--no-safety-backup to skip)",
      },
      wait: { type: "boolean", description: "wait for a running backup or restore of the service instead of failing" },
      offsite: {
        type: "string",
        valueHint: "NAME",
        description: "restore from this offsite copy (default: backup_dir, else the first copy that has the backup)",
      },
      file: {
        type: "string",
        valueHint: "PATH",
        description: "only this file or folder (<volume>/<path>, see `list --contents`), into --to, not the volume",
      },
      to: {
        type: "string",
        valueHint: "DIR",
        description: "host folder for --file (made if missing; nothing overwritten)",
      },
      ...configArgs,
    },
    async run({ args }) {
      const session = loadConfig(args);
      const [name, ...extra] = positionals(args);
      if (extra.length > 0) throw new UsageError(`restore takes one service, not ${[name, ...extra].join(", ")}`);
      if (args.undo && args.from !== undefined) {
        throw new UsageError("--undo picks the backup itself (the last restore's safety backup): drop --from");
      }
      if (args.file !== undefined || args.to !== undefined) return restoreFile(session, name!, args);
      const service = loadService(session.root, name!);
      const dryRun = Boolean(args["dry-run"]);
      if (!args.yes && !dryRun && !isInteractive()) {
        throw new UsageError(
          `restore overwrites the data of ${service.name} and needs a confirmation: ` +
            "run it on a terminal, or pass --yes",
        );
      }
      const opts = {
        safetyBackup: Boolean(args["safety-backup"]),
        wait: Boolean(args.wait),
        yes: Boolean(args.yes),
        dryRun,
        offsite: args.offsite,
      };
      if (args.from === undefined && !args.undo && !args.yes && !dryRun) {
        if (!(await pickAndRestore(session, service.name, opts)))
          throw new OperationError("restore aborted: nothing was changed");
        return;
      }
      const ctx = context(session);
      const found = await readAllBackups(session.config, ctx.signal, { service: service.name, only: args.offsite });
      const { backups } = found;
      for (const u of [...found.unreadable, ...found.unreachable]) logger.warn(u);
      const backup = args.undo ? selectUndo(backups, service.name, ctx.host) : pick(backups, service.name, args.from);
      const restored = await confirmAndRestore(ctx, service, backup, opts, prompts);
      if (!restored) throw new OperationError("restore aborted: nothing was changed");
    },
  });

type FileArgs = { file?: string; to?: string; from?: string; undo?: boolean; "dry-run"?: boolean };

/**
 * `--file PATH --to DIR`: one file or folder out of a backup into a host folder. It reads the
 * archive and writes only into DIR, so it asks nothing, stops nothing and takes no lock.
 */
async function restoreFile(session: Session, service: string, args: FileArgs) {
  if (args.file === undefined || args.to === undefined) {
    throw new UsageError("--file PATH and --to DIR go together: what to take out of the backup, and the folder for it");
  }
  if (args.to === "") throw new UsageError("--to is empty: give the host folder to write into");
  if (args["dry-run"]) throw new UsageError("--dry-run does not go with --file, which writes only into --to's folder");
  const path = archivePath(args.file);
  await serviceFilter(session, { _: [service] });
  const ctx = context(session);
  const found = await readAllBackups(session.config, ctx.signal, { service });
  for (const u of [...found.unreadable, ...found.unreachable]) logger.warn(u);
  const { backups } = found;
  const chosen = args.undo ? selectUndo(backups, service, ctx.host) : pick(backups, service, args.from);
  const backup = await localBackup(ctx, chosen);
  logger.info(`taking ${path} out of ${backup.id}`);
  const r = await extractPath(ctx.config, backup, path, resolve(args.to), interrupt.signal);
  for (const s of r.skipped) logger.warn(`skipped ${s}: device nodes and FIFOs are not made in a host folder`);
  const files = `${count(r.files, "file")}, ${formatBytes(r.bytes)}`;
  logger.success(`${path} from ${backup.id} is in ${r.target} (${files})`);
}

/** `--from` (default latest), with the warnings about the backups it passed over. */
function pick(backups: Backup[], service: string, from: string | undefined): Backup {
  const { backup, skipped, future } = selectBackup(backups, service, from ?? "latest");
  for (const b of skipped) logger.warn(`skipping ${b.id}: ${INCOMPLETE}`);
  const consequence = "latest passes over them; pick one by its id with --from";
  if (future.length > 0)
    logger.warn(
      futureDatedWarning(
        service,
        future.map((b) => b.id),
        consequence,
      ),
    );
  return backup;
}
