import { intro, note, outro, select, unicodeOr } from "@clack/prompts";
import { problemText, readCatalog } from "../app/catalog.ts";
import type { ConfigArgs, Session } from "../app/session.ts";
import { enabledHealth } from "../app/status-view.ts";
import { engineProblem } from "../docker/daemon.ts";
import { interrupt } from "../terminal/interrupt.ts";
import { EXIT, isUserFacing, messageOf, OperationError } from "../util/errors.ts";
import { formatAge, formatBytes, formatLocal, table } from "../util/format.ts";
import { VERSION } from "../util/version.ts";
import { backupScreen } from "./backup-screen.ts";
import { ask, out, say } from "./io.ts";
import { restoreWizard } from "./restore-wizard.ts";
import { scheduleLine } from "./schedule.ts";
import { openSession } from "./session.ts";
import { settingsScreen } from "./settings.ts";

/** Older than this, or a failed last attempt, earns the warning mark. */
const STALE_MS = 2 * 24 * 3_600_000;

/** The status header: where backups go, and per enabled service how recent its newest backup from this machine is. */
async function header(session: Session): Promise<string> {
  const { config } = session;
  const { rows, backupDirProblem } = await enabledHealth(config, STALE_MS);
  if (backupDirProblem) throw new OperationError(backupDirProblem);
  const health = rows.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  const width = Math.max(0, ...health.map((h) => h.service.length));
  const lines = [`backup_dir: ${config.backupDir}`, `schedule:   ${scheduleLine(session)}`, ""];
  if (health.length === 0) lines.push("No service is enabled yet: Settings > Services.");
  for (const h of health) {
    const failed = h.last_attempt && !h.last_attempt.ok;
    const mark = h.stale || failed ? unicodeOr("⚠", "!") : unicodeOr("✔", "+");
    const newest = h.newest
      ? `newest ${formatAge(new Date(h.newest.created_at))}, ${formatBytes(h.newest.bytes)}`
      : "no backup from this machine yet";
    const why = failed
      ? `; last attempt FAILED: ${h.last_attempt!.error}`
      : h.stale && h.newest
        ? "  (older than 2 days)"
        : "";
    lines.push(`${mark} ${h.service.padEnd(width)}  ${newest}${why}`);
  }
  return lines.join("\n");
}

/** The header, below Docker's problem when there is one: said once, not as every service's failure. */
async function statusNote(session: Session): Promise<string> {
  const unreadable = (e: unknown) =>
    `backup_dir: ${session.config.backupDir}\ncannot read the backups: ${messageOf(e)}`;
  const [engine, status] = await Promise.all([engineProblem().catch(messageOf), header(session).catch(unreadable)]);
  return engine ? `${unicodeOr("⚠", "!")} ${engine}\n\n${status}` : status;
}

async function listBackups(session: Session): Promise<void> {
  const { backups, problems, unreadable } = await readCatalog(session.config.backupDir);
  if (backups.length === 0) say.info(`no backups in ${session.config.backupDir} yet`);
  else {
    const rows = backups.map((b) => [
      b.id,
      formatLocal(b.createdAt),
      formatAge(b.createdAt),
      b.host,
      formatBytes(b.bytes),
      b.kind + (b.complete ? "" : " (incomplete)"),
    ]);
    say.message(table([["id", "created", "age", "host", "size", "kind"], ...rows]));
  }
  for (const w of [...problems.map(problemText), ...unreadable]) say.warn(w);
}

/**
 * `tools-backup` on a terminal. Esc or Ctrl-C at a prompt goes back here, and here it quits
 * (exit 0); only Ctrl-C while a backup or restore runs is a SIGINT, which ends with 130 after cleanup.
 */
export async function mainMenu(args: ConfigArgs): Promise<number> {
  intro(`tools-backup ${VERSION}`, out);
  const opened = await openSession(args);
  if (!opened) {
    outro("nothing was changed", out);
    return EXIT.ok;
  }
  let session: Session = opened;
  for (;;) {
    note(await statusNote(session), "Status", out);
    const choice = await ask(
      select({
        ...out,
        message: "What would you like to do?",
        options: [
          { value: "backup", label: "Back up a service now" },
          { value: "restore", label: "Restore a service", hint: "pick a backup, then type RESTORE" },
          { value: "settings", label: "Settings", hint: "backup folder, retention, services, schedule" },
          { value: "list", label: "List backups" },
          { value: "quit", label: "Quit" },
        ],
      }),
    );
    if (choice === undefined || choice === "quit") {
      outro("bye", out);
      return EXIT.ok;
    }
    try {
      if (choice === "backup") await backupScreen(session);
      if (choice === "restore" && !(await restoreWizard(session, undefined, { safetyBackup: true, wait: false })))
        say.warn("restore aborted: nothing was changed");
      if (choice === "settings") session = await settingsScreen(session);
      if (choice === "list") await listBackups(session);
    } catch (e) {
      // An interrupted operation has cleaned up; the run ends with 130. Bugs keep their stack.
      if (interrupt.signal.aborted || !isUserFacing(e)) throw e;
      say.error(messageOf(e));
    }
  }
}
