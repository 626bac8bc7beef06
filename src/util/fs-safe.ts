import { chmod, lstat, mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Files being written carry this prefix until they are complete. */
export const TEMP_PREFIX = ".tmp-";

/** Backups hold secrets and may land in a cloud-synced folder: folders 0700, files 0600. */
export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE);
}

/** Whether anything (a file, a folder, even a dangling symlink) already has this name. */
export const pathExists = (p: string): Promise<boolean> =>
  lstat(p).then(
    () => true,
    () => false,
  );

export function tempPathFor(finalPath: string): string {
  return join(dirname(finalPath), `${TEMP_PREFIX}${basename(finalPath)}.${process.pid}`);
}

/** Writes a small file and syncs it to disk before returning. */
export async function writeFileSynced(file: string, data: string | Uint8Array): Promise<void> {
  const fh = await open(file, "w", FILE_MODE);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes a small file completely under a temporary name, then renames it into place. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(file);
  try {
    await writeFileSynced(tmp, data);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Flushes a file someone else wrote (a stream, a lifecycle script) to disk. */
export async function syncFile(file: string): Promise<void> {
  const fh = await open(file, "r+");
  await fh.sync().finally(() => fh.close());
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r").catch(() => undefined);
  if (!fh) return;
  await fh.sync().catch(() => undefined);
  await fh.close();
}
