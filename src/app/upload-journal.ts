import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { PendingUpload } from "../offsite/store.ts";
import { ensurePrivateDir, writeFileAtomic } from "../util/fs-safe.ts";
import { isAlive } from "../util/process.ts";

/**
 * Unfinished uploads, one file each in the state folder, written before the first part is sent:
 * a run killed mid-upload leaves the id, and the next run aborts that upload by it. Servers that
 * cannot list unfinished uploads (S3's ListMultipartUploads) would otherwise keep their parts for ever.
 */
export interface PendingRecord extends PendingUpload {
  pid: number;
  started_at: string;
}

const folderOf = (stateDir: string, copy: string) => join(stateDir, "uploads", copy);
const fileOf = (stateDir: string, copy: string, key: string) =>
  join(folderOf(stateDir, copy), `${key.replace(/\//g, "__")}.json`);

/** Records `upload` as under way, or (with undefined) the upload of `key` as finished or aborted. */
export async function recordPending(stateDir: string, copy: string, key: string, upload: PendingUpload | undefined) {
  if (!upload) return rm(fileOf(stateDir, copy, key), { force: true });
  await ensurePrivateDir(folderOf(stateDir, copy));
  const record: PendingRecord = { ...upload, pid: process.pid, started_at: new Date().toISOString() };
  await writeFileAtomic(fileOf(stateDir, copy, key), JSON.stringify(record, null, 2));
}

/** Every recorded upload of `copy`; `live` when the run that sends it is still going (never aborted from here). */
export async function pendingRecords(stateDir: string, copy: string): Promise<(PendingRecord & { live: boolean })[]> {
  const folder = folderOf(stateDir, copy);
  const names = (await readdir(folder).catch(() => [] as string[])).filter((n) => n.endsWith(".json"));
  const read = (n: string) =>
    readFile(join(folder, n), "utf8").then(
      (text) => JSON.parse(text) as PendingRecord,
      () => undefined,
    );
  const records = (await Promise.all(names.map(read))).filter((r): r is PendingRecord => r !== undefined);
  return records.map((r) => ({ ...r, live: isAlive(r.pid) }));
}
