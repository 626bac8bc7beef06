import { stat } from "node:fs/promises";
import { messageOf, OperationError } from "../util/errors.ts";

/** Why backup_dir cannot be used right now; undefined when it is a folder. */
export async function backupDirProblem(backupDir: string): Promise<string | undefined> {
  try {
    if (!(await stat(backupDir)).isDirectory()) return `backup_dir ${backupDir} is not a folder`;
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Never created on the fly: a missing backup_dir is usually a cloud drive that is not mounted,
    // and must not pass for "no backups".
    if (code === "ENOENT" || code === "ENOTDIR") {
      return `backup_dir ${backupDir} does not exist; create it, or check that the drive holding it is mounted`;
    }
    return `cannot read backup_dir ${backupDir}: ${messageOf(e)}`;
  }
}

export async function requireBackupDir(backupDir: string): Promise<void> {
  const problem = await backupDirProblem(backupDir);
  if (problem) throw new OperationError(problem);
}
