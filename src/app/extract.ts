import { mkdir, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { restoreEntryCheck } from "../archive/restore-rules.ts";
import type { BackupConfig } from "../config/backup-config.ts";
import { OperationError, systemErrorText } from "../util/errors.ts";
import { DIR_MODE, pathExists } from "../util/fs-safe.ts";
import type { Backup } from "./catalog.ts";
import { isUnder, nothingAt, readEntries, requireOwnArchive, requireVolume } from "./contents.ts";
import { EntryWriter } from "./entry-writer.ts";

export interface ExtractResult {
  /** Where the file or folder was written: DIR/<its name>. */
  target: string;
  files: number;
  bytes: number;
  /** Device nodes, FIFOs and unknown entries: not made in a host folder. */
  skipped: string[];
}

/**
 * Writes one file or folder of a backup (`path`, `<volume>/<path>`) into `toDir` as
 * `toDir/<its name>`, never into a volume. Nothing there is overwritten: the name must be free.
 * The archive is checked against its manifest as it is read; on any failure what was written goes.
 */
export async function extractPath(
  config: BackupConfig,
  backup: Backup,
  path: string,
  toDir: string,
  signal?: AbortSignal,
): Promise<ExtractResult> {
  requireOwnArchive(backup);
  requireVolume(backup, path);
  const target = join(toDir, basename(path));
  await mkdir(toDir, { recursive: true, mode: DIR_MODE }).catch((e) => {
    throw new OperationError(`cannot create ${toDir}: ${systemErrorText(e)}`);
  });
  if (await pathExists(target)) {
    const hint = "give --to an empty or new folder";
    throw new OperationError(`${target} already exists; nothing of yours is overwritten: ${hint}`);
  }
  const writer = new EntryWriter(path, target, toDir);
  const check = restoreEntryCheck(backup.manifest);
  try {
    await readEntries(config, backup, {
      signal,
      onEntry(entry, volume) {
        check(entry, volume);
        if (isUnder(entry.name, path)) writer.entry(entry);
      },
      onData: (data) => writer.data(data),
    });
    if (writer.failure) throw writer.failure;
    if (!writer.matched) throw nothingAt(backup, path);
    writer.finishDirs();
  } catch (e) {
    writer.close();
    // Only what this run made: a name taken meanwhile by someone else is theirs.
    if (writer.matched) await rm(target, { recursive: true, force: true });
    // A write that failed is the cause; the pipeline reports it as an unreadable archive.
    throw writer.failure ?? e;
  }
  return { target, files: writer.files, bytes: writer.bytes, skipped: writer.skipped };
}
