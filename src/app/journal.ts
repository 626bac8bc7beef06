import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { ensurePrivateDir, writeFileAtomic } from "../util/fs-safe.ts";

/**
 * While containers are stopped, a journal names them, so that a run killed outright
 * (SIGKILL, power loss) can be finished by the next run: it starts what was left stopped.
 */
export interface Journal {
  service: string;
  pid: number;
  operation: "backup" | "restore";
  started_at: string;
  stopped: string[];
  /** Their ids: a container re-created since under the same name is the user's, not ours to start. */
  ids?: Record<string, string>;
  /** For a restore: the backup being restored. */
  restoring?: string;
  /** For a restore: the pre-restore backup to go back to if the restore was cut short. */
  safety_backup?: string;
  /** For a restore: set once the volumes are being written; before that they are untouched. */
  replacing?: boolean;
}

function fileOf(stateDir: string, service: string): string {
  return join(stateDir, "journal", `${service}.json`);
}

export async function writeJournal(stateDir: string, journal: Journal): Promise<void> {
  await ensurePrivateDir(join(stateDir, "journal"));
  await writeFileAtomic(fileOf(stateDir, journal.service), JSON.stringify(journal, null, 2));
}

export async function readJournal(stateDir: string, service: string): Promise<Journal | undefined> {
  try {
    return JSON.parse(await readFile(fileOf(stateDir, service), "utf8")) as Journal;
  } catch {
    return undefined;
  }
}

export async function clearJournal(stateDir: string, service: string): Promise<void> {
  await rm(fileOf(stateDir, service), { force: true });
}
