import { intro, select, unicodeOr } from "@clack/prompts";
import { readAllBackups } from "../app/all-backups.ts";
import { type Backup, LOCAL } from "../app/catalog.ts";
import { confirmAndRestore } from "../app/confirm-restore.ts";
import { undoneRestore } from "../app/select-backup.ts";
import { runContext, type Session } from "../app/session.ts";
import { isRegular } from "../archive/naming.ts";
import { loadService, loadServices, type Service } from "../config/service-config.ts";
import { interrupt } from "../terminal/interrupt.ts";
import { showRestoreSummary, typedConfirmation } from "../terminal/restore-prompts.ts";
import { UsageError } from "../util/errors.ts";
import { count, formatAge, formatBytes, formatLocal } from "../util/format.ts";
import { ask, out, say } from "./io.ts";
import { tuiReporter } from "./progress.ts";

/** One line per backup: what tells two backups apart when choosing. */
function backupLabel(b: Backup, hostWidth = 0): string {
  const age = formatAge(b.createdAt).padEnd(8);
  const size = formatBytes(b.bytes).padStart(9);
  return `${formatLocal(b.createdAt)}  ${age}  ${b.host.padEnd(hostWidth)}  ${size}  ${b.kind}`;
}

async function pickService(session: Session, backups: Backup[]): Promise<Service | undefined> {
  const services = loadServices(session.root).filter((s) => backups.some((b) => b.service === s.name));
  if (services.length === 0) {
    say.warn(`no backups in ${session.config.backupDir} of any service in ${session.root}/services`);
    return undefined;
  }
  const name = await ask(
    select({
      ...out,
      message: "Restore which service?",
      options: services.map((s) => {
        const mine = backups.filter((b) => b.service === s.name);
        return {
          value: s.name,
          label: s.name,
          hint: `${count(mine.length, "backup")}, newest ${formatAge(mine[0]!.createdAt)}`,
        };
      }),
    }),
  );
  return services.find((s) => s.name === name);
}

async function pickBackup(service: string, mine: Backup[]): Promise<Backup | undefined> {
  if (mine.length === 1 && isRegular(mine[0]!.kind)) {
    // Nothing to choose between; the summary and the typed RESTORE still come.
    say.info(`the only backup of ${service}: ${backupLabel(mine[0]!)}`);
    return mine[0];
  }
  const id = await ask(
    select({
      ...out,
      message: `Restore ${service} from which backup? (newest first)`,
      maxItems: 12,
      // The newest complete regular backup: the newest of all may be a safety copy of broken data.
      initialValue: mine.find((b) => b.complete && isRegular(b.kind))?.id,
      options: backupOptions(mine),
    }),
  );
  return mine.find((b) => b.id === id);
}

/** Regular backups first; then, under their own label, the undo points (pre-restore), each said for what it is. */
function backupOptions(mine: Backup[]) {
  const hostWidth = Math.max(...mine.map((x) => x.host.length));
  const option = (b: Backup, label: string) => ({
    value: b.id,
    label,
    disabled: !b.complete,
    hint: b.complete
      ? `${b.id}${offsiteOnly(b)}`
      : "incomplete: its size differs from the manifest (a sync still running?)",
  });
  const undo = mine.filter((b) => !isRegular(b.kind));
  const rule = unicodeOr("──", "--");
  const label = `${rule} undo points: the data a restore replaced (its safety backup) ${rule}`;
  const group = { value: "", label, disabled: true };
  return [
    ...mine.filter((b) => isRegular(b.kind)).map((b) => option(b, backupLabel(b, hostWidth))),
    ...(undo.length > 0 ? [group] : []),
    ...undo.map((b) => option(b, `undo: put back the data replaced by ${undoneRestore(b)}  ${undoSize(b)}`)),
  ];
}

/** Where a backup backup_dir lacks will be fetched from. */
const offsiteOnly = (b: Backup) => (b.locations.includes(LOCAL) ? "" : ` (in ${b.locations.join(", ")})`);

/** An undo point's host and size; its date is the restore's, in the label. */
const undoSize = (b: Backup) => `(${b.host}, ${formatBytes(b.bytes)})`;

/**
 * The spec's restore flow: service (only those with backups), backup (newest first), the same
 * summary and typed RESTORE as the command, then the same restore. False: nothing was changed.
 */
export async function restoreWizard(
  session: Session,
  serviceName: string | undefined,
  opts: { safetyBackup: boolean; wait: boolean; offsite?: string },
): Promise<boolean> {
  if (serviceName) intro(`tools-backup restore ${serviceName}`, out);
  const found = await readAllBackups(session.config, interrupt.signal, {
    service: serviceName,
    only: opts.offsite,
  });
  const { backups } = found;
  for (const u of [...found.unreadable, ...found.unreachable]) say.warn(u);
  const service = serviceName ? loadService(session.root, serviceName) : await pickService(session, backups);
  if (!service) return false;
  const mine = backups.filter((b) => b.service === service.name);
  if (mine.length === 0) throw new UsageError(`no backups of ${service.name} found; see \`tools-backup list\``);
  const backup = await pickBackup(service.name, mine);
  if (!backup) return false;
  const reporter = tuiReporter();
  try {
    return await confirmAndRestore(runContext(session, reporter, interrupt.signal), service, backup, opts, {
      ...say,
      show: showRestoreSummary,
      confirm: typedConfirmation,
    });
  } finally {
    reporter.end();
  }
}
