import { readFile } from "node:fs/promises";
import type { OffsiteCopy } from "../config/offsite-config.ts";
import type { Service } from "../config/service-config.ts";
import type { Store } from "../offsite/store.ts";
import { planRetention } from "../retention/plan.ts";
import { messageOf } from "../util/errors.ts";
import { formatBytes, formatDuration } from "../util/format.ts";
import { type Backup, readCatalog } from "./catalog.ts";
import { lockOptions, type RunContext } from "./context.ts";
import { withServiceLock } from "./lock.ts";
import { readRemoteCatalog } from "./offsite-catalog.ts";
import { abortOrphans } from "./offsite-orphans.ts";
import type { OpenCopy } from "./offsite-stores.ts";
import { recordPending } from "./upload-journal.ts";

/** How one service's backups fared with one offsite copy in a run. */
export interface OffsiteOutcome {
  copy: string;
  service: string;
  ok: boolean;
  /** Ids uploaded in this run. */
  sent: string[];
  error?: string;
}

/**
 * Brings one copy up to date for one service: every complete backup this host made that the copy
 * lacks and would keep is uploaded, newest first, archive then manifest, so a copy that failed last
 * time is caught up now. Orphaned uploads of killed runs are aborted first.
 */
export async function sendService(
  ctx: RunContext,
  copy: OffsiteCopy,
  store: Store,
  service: string,
): Promise<OffsiteOutcome> {
  const outcome: OffsiteOutcome = { copy: copy.name, service, ok: true, sent: [] };
  const warn = (m: string) => ctx.reporter.warn(service, `${copy.name}: ${m}`);
  try {
    await abortOrphans(store, ctx.stateDir, ctx.host, service, ctx.signal, warn);
    const [local, remote] = await Promise.all([
      readCatalog(ctx.config.backupDir, service),
      readRemoteCatalog(store, ctx.signal, service),
    ]);
    const there = new Map(remote.backups.map((b) => [b.id, b]));
    const mine = local.backups.filter((b) => b.host === ctx.host && b.complete);
    // keep_last counts what the copy will hold: its own backups and the ones about to arrive.
    const union = [...mine, ...remote.backups.filter((r) => !mine.some((b) => b.id === r.id))];
    const policy = { retentionDays: copy.retentionDays, keepLast: copy.keepLast };
    const kept = new Set(planRetention(union, { ...policy }, ctx.host, new Date()).keep.map((b) => b.id));
    const missing = mine.filter((b) => kept.has(b.id) && !there.get(b.id)?.complete);
    for (const backup of missing) {
      // A run killed between the archive and its manifest left the whole archive there already.
      const archived = remote.sizes.get(`${service}/${backup.manifest.archive.file}`) === backup.bytes;
      await sendBackup(ctx, store, backup, archived);
      outcome.sent.push(backup.id);
    }
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    return { ...outcome, ok: false, error: messageOf(e) };
  }
  return outcome;
}

async function sendBackup(ctx: RunContext, store: Store, backup: Backup, archiveDone: boolean): Promise<void> {
  const t0 = Date.now();
  const { service } = backup;
  const key = `${service}/${backup.manifest.archive.file}`;
  // The manifest goes last: until it is there, the copy does not list the backup.
  const manifest = { key: `${service}/${backup.id}.json`, data: await readFile(backup.manifestFile) };
  if (archiveDone) await store.putBytes(manifest.key, manifest.data, ctx.signal);
  else {
    const verb = `sent to ${store.name}`;
    await store.putFile(key, backup.file, backup.bytes, {
      signal: ctx.signal,
      onBytes: (sent) => ctx.reporter.progress(service, sent, Date.now() - t0, { verb, total: backup.bytes }),
      onPending: (upload) => recordPending(ctx.stateDir, store.name, key, upload),
      followedBy: manifest,
    });
  }
  const took = `${formatBytes(backup.bytes)}, ${formatDuration(Date.now() - t0)}`;
  ctx.reporter.step(service, `${store.name}: uploaded ${backup.id} (${took})`);
}

/**
 * After the run's backups, with every container running again: each service's backups to each
 * copy, under the service's lock (a restore of it waits, as for a backup). Returns one outcome per
 * service and copy.
 */
export async function sendToCopies(
  ctx: RunContext,
  copies: OpenCopy[],
  services: Service[],
  wait: boolean,
): Promise<OffsiteOutcome[]> {
  const outcomes: OffsiteOutcome[] = [];
  for (const service of services) {
    ctx.signal.throwIfAborted();
    const name = service.name;
    try {
      await withServiceLock(ctx.stateDir, service, lockOptions(ctx, name, wait), async () => {
        for (const { copy, store } of copies) outcomes.push(await sendService(ctx, copy, store, name));
      });
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      const error = messageOf(e);
      outcomes.push(...copies.map(({ copy }) => ({ copy: copy.name, service: name, ok: false, sent: [], error })));
    }
  }
  return outcomes;
}
