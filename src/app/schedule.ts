import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { cronDaemonProblem } from "../cron/daemon.ts";
import { buildCronLine, type InstalledEntry, installEntry, installedEntry } from "../cron/entry.ts";
import { keysFoundUnderCron } from "../offsite/open.ts";
import { selfCommand } from "../system/runtime.ts";
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

/**
 * Points the installed scheduled backup at this program (after an upgrade or a move), keeping its
 * schedule, files and variables. Undefined when none is installed.
 */
export function relinkSchedule(): { from: string[]; to: string[] } | undefined {
  const entry = installedEntry();
  if (!entry?.line) return undefined;
  const old = entry.line.command;
  const self = selfCommand();
  installEntry({ ...entry.line, command: [...self, ...old.slice(old.indexOf("backup"))] });
  return { from: old.slice(0, old.indexOf("backup")), to: self };
}

/**
 * The version of the binary the installed line runs, when it is a binary of ours (a line that
 * runs a script through Bun or Deno has no version of its own to ask); undefined when unknown.
 */
export function scheduledVersion(entry: InstalledEntry): string | undefined {
  const [program, next] = entry.line?.command ?? [];
  if (!program || !entry.executableExists || next !== "backup") return undefined;
  const r = spawnSync(program, ["--version"], { encoding: "utf8", timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
