import { join } from "node:path";
import { cronDaemonProblem } from "../cron/daemon.ts";
import { buildCronLine, type InstalledEntry, installEntry, installedEntry } from "../cron/entry.ts";
import { keysFoundUnderCron } from "../offsite/open.ts";
import { messageOf } from "../util/errors.ts";
import { ensurePrivateDir } from "../util/fs-safe.ts";
import { stateDir } from "./context.ts";
import type { Session } from "./session.ts";

/**
 * Adds (or replaces) the scheduled backup of this session's backup.yaml, its output logged in
 * the state folder. Also says when no cron daemon would run it, for the front end to warn.
 */
export async function installSchedule(session: Session, schedule: string) {
  const state = stateDir();
  await ensurePrivateDir(state);
  const tools = session.config.offsite.some((c) => c.kind === "rclone") ? ["rclone"] : [];
  const line = buildCronLine(schedule, session.config.file, session.root, join(state, "cron.log"), process.env, tools);
  const { replaced } = installEntry(line);
  return { replaced, line, noDaemon: cronDaemonProblem(), keyless: await keylessCopies(session) };
}

/** Warnings for offsite copies whose keys a scheduled run would not find. */
async function keylessCopies(session: Session): Promise<string[]> {
  const found = await Promise.all(session.config.offsite.map((c) => keysFoundUnderCron(c)));
  return session.config.offsite
    .filter((_, i) => !found[i])
    .map(
      (c) =>
        `offsite copy ${c.name}: its keys come from AWS_* variables, which cron does not pass; ` +
        `give it a credentials file in ${session.config.file}`,
    );
}

/** The crontab entry, or why it cannot be read (no crontab on the machine): never a failure. */
export function readInstalledEntry(): { entry?: InstalledEntry; error?: string } {
  try {
    return { entry: installedEntry() };
  } catch (e) {
    return { error: messageOf(e) };
  }
}
