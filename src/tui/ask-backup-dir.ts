import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { confirm, text } from "@clack/prompts";
import { expandPath } from "../config/expand-path.ts";
import { messageOf } from "../util/errors.ts";
import { ensurePrivateDir } from "../util/fs-safe.ts";
import { ask, out, say } from "./io.ts";

/** backup_dir as loadBackupConfig will read it: ~ and $VARS expanded, relative to backup.yaml's folder. */
export function resolveBackupDir(value: string, baseDir: string): string {
  if (value.trim() === "") throw new Error("enter a folder");
  return expandPath(value.trim(), process.env, os.homedir(), baseDir);
}

/** Why this folder cannot hold backups, or undefined: it is a writable folder, or could be created. */
export function folderProblem(dir: string): string | undefined {
  let probe = dir;
  while (!fs.existsSync(probe)) {
    const parent = path.dirname(probe);
    if (parent === probe) return `nothing of ${dir} exists`;
    probe = parent;
  }
  if (!fs.statSync(probe).isDirectory()) return `${probe} is not a folder`;
  try {
    fs.accessSync(probe, fs.constants.W_OK);
  } catch {
    return probe === dir ? `${dir} is not writable` : `${dir} cannot be created: ${probe} is not writable`;
  }
  return undefined;
}

/**
 * Asks for backup_dir until it names a writable folder; a missing one is created (mode 0700,
 * backups hold secrets) only after a yes. Returns the value as typed, for backup.yaml.
 */
export async function askBackupDir(opts: {
  message: string;
  initial: string;
  baseDir: string;
}): Promise<string | undefined> {
  let initial = opts.initial;
  for (;;) {
    const value = await ask(
      text({
        ...out,
        message: opts.message,
        initialValue: initial,
        validate: (v) => {
          try {
            return folderProblem(resolveBackupDir(v ?? "", opts.baseDir));
          } catch (e) {
            return messageOf(e);
          }
        },
      }),
    );
    if (value === undefined) return undefined;
    const dir = resolveBackupDir(value, opts.baseDir);
    if (fs.existsSync(dir)) return value.trim();
    const create = await ask(confirm({ ...out, message: `${dir} does not exist. Create it (private: mode 0700)?` }));
    if (create === undefined) return undefined;
    if (create) {
      try {
        await ensurePrivateDir(dir);
        fs.accessSync(dir, fs.constants.W_OK);
        say.success(`created ${dir}`);
        return value.trim();
      } catch (e) {
        say.error(`cannot create ${dir}: ${messageOf(e)}`);
      }
    }
    initial = value;
  }
}
