import { createHash } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { type Manifest, readManifest } from "../archive/manifest.ts";
import { publishBackup } from "../archive/publish.ts";
import type { Store } from "../offsite/store.ts";
import { messageOf, OperationError, UsageError } from "../util/errors.ts";
import { formatBytes, formatDuration } from "../util/format.ts";
import { DIR_MODE, ensurePrivateDir, FILE_MODE, syncDir, tempPathFor } from "../util/fs-safe.ts";
import { type Backup, LOCAL, readCatalog } from "./catalog.ts";
import type { RunContext } from "./context.ts";
import { reasonOf } from "./offsite-orphans.ts";
import { chosenCopies, openCopies } from "./offsite-stores.ts";

/**
 * The backup as a local file a restore can use: backup_dir's own when it is there (and no copy
 * is forced with `only`), else downloaded from the first offsite copy that has it whole, into
 * backup_dir under a temporary name, checked against its manifest's size and sha256, then
 * published as a backup would be. A copy that fails is said, and the next one tried.
 */
export async function localBackup(ctx: RunContext, backup: Backup, only?: string): Promise<Backup> {
  if (only === undefined && backup.locations.includes(LOCAL)) return backup;
  const copies = chosenCopies(ctx.config, only).filter((c) => backup.locations.includes(c.name));
  if (copies.length === 0) {
    // Listed from a copy, yet whole nowhere: the archive there was cut short or replaced.
    if (backup.locations.length === 0) {
      const where = only === undefined ? "every offsite copy that lists it" : `offsite copy ${only}`;
      throw new OperationError(`${backup.id} cannot be fetched: its archive in ${where} differs from its manifest`);
    }
    throw new UsageError(`${backup.id} is not in offsite copy ${only}: it is in ${backup.locations.join(", ")}`);
  }
  const failures: string[] = [];
  for (const { store } of await openCopies(copies)) {
    try {
      await download(ctx, store, backup);
      const { backups } = await readCatalog(ctx.config.backupDir, backup.service);
      const fetched = backups.find((b) => b.id === backup.id);
      if (fetched) return fetched;
      failures.push(`${store.name}: ${backup.id} is not in backup_dir after the download`);
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      ctx.reporter.warn(backup.service, `${store.name}: cannot fetch ${backup.id}: ${reasonOf(e)}`);
      failures.push(messageOf(e));
    }
  }
  throw new OperationError(`cannot fetch ${backup.id} from any offsite copy: ${failures.join("; ")}`);
}

async function download(ctx: RunContext, store: Store, backup: Backup): Promise<void> {
  const { service, manifest } = backup;
  // A new machine's backup_dir may not exist yet: made as every folder of ours, private.
  await mkdir(ctx.config.backupDir, { recursive: true, mode: DIR_MODE });
  const folder = join(ctx.config.backupDir, service);
  await ensurePrivateDir(folder);
  const tmp = tempPathFor(join(folder, manifest.archive.file));
  const t0 = Date.now();
  const verb = `fetched from ${store.name}`;
  const hash = createHash("sha256");
  let bytes = 0;
  const out = await open(tmp, "w", FILE_MODE);
  try {
    try {
      for await (const piece of store.stream(`${service}/${manifest.archive.file}`, ctx.signal)) {
        hash.update(piece);
        bytes += piece.length;
        await out.write(piece);
        ctx.reporter.progress(service, bytes, Date.now() - t0, { verb, total: manifest.archive.bytes });
      }
      await out.sync();
    } finally {
      await out.close();
    }
    const sha = hash.digest("hex");
    if (bytes !== manifest.archive.bytes || sha !== manifest.archive.sha256) {
      const found = `${formatBytes(bytes)}, sha256 ${sha}`;
      const expected = `${formatBytes(manifest.archive.bytes)}, sha256 ${manifest.archive.sha256}`;
      throw new OperationError(`${store.name}: ${backup.id}'s archive is ${found}; its manifest says ${expected}`);
    }
    // Fetched over backup_dir's own copy (--offsite, or a damaged archive): same id, same manifest, so
    // only the archive is replaced, in one rename; a fresh one is published as a backup is.
    if (await sameManifest(backup.manifestFile, manifest)) {
      await rename(tmp, join(folder, manifest.archive.file));
      await syncDir(folder);
    } else await publishBackup(folder, tmp, manifest);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const took = `${formatBytes(bytes)}, ${formatDuration(Date.now() - t0)}`;
  ctx.reporter.step(service, `${store.name}: fetched ${backup.id} into ${folder} (${took}); sha256 checked`);
}

/** Whether backup_dir already holds this very manifest (same backup, same archive). */
async function sameManifest(file: string, manifest: Manifest): Promise<boolean> {
  const local = await readManifest(file);
  return typeof local !== "string" && local.id === manifest.id && local.archive.sha256 === manifest.archive.sha256;
}
