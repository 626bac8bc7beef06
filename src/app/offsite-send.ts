import { readFile } from "node:fs/promises";
import type { OffsiteCopy } from "../config/offsite-config.ts";
import type { Service } from "../config/service-config.ts";
import type { Store } from "../offsite/store.ts";
import { planRetention, type RetentionPolicy } from "../retention/plan.ts";
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
 * time is caught up now. Orphaned uploads of killed runs are aborted first, except that the backup
 * this run made (`made`), which the copy cannot hold yet, goes up while the copy is listed.
 */
export async function sendService(
  ctx: RunContext,
  copy: OffsiteCopy,
  store: Store,
  service: string,
  made: ReadonlySet<string> = new Set(),
): Promise<OffsiteOutcome> {
  const outcome: OffsiteOutcome = { copy: copy.name, service, ok: true, sent: [] };
  const warn = (m: string) => ctx.reporter.warn(service, `${copy.name}: ${m}`);
  let fresh: Backup | undefined;
  let early: Promise<boolean> | undefined;
  try {
    const local = await readCatalog(ctx.config.backupDir, service);
    const mine = local.backups.filter((b) => b.host === ctx.host && b.complete);
    fresh = mine.find((b) => made.has(b.id) && keptAlone(b, copy.retention, ctx.host));
    early = fresh && sendBackup(ctx, store, fresh, false).then(() => true);
    early?.catch(() => undefined);
    const sending = fresh ? [`${service}/${fresh.manifest.archive.file}`] : [];
    await abortOrphans(store, ctx.stateDir, ctx.host, service, ctx.signal, warn, sending);
    const remote = await readRemoteCatalog(store, ctx.signal, service);
    const there = new Map(remote.backups.map((b) => [b.id, b]));
    // keep_last counts what the copy will hold: its own backups and the ones about to arrive.
    const union = [...mine, ...remote.backups.filter((r) => !mine.some((b) => b.id === r.id))];
    const kept = new Set(planRetention(union, copy.retention, ctx.host, new Date()).keep.map((b) => b.id));
    const missing = mine.filter((b) => b !== fresh && kept.has(b.id) && !there.get(b.id)?.complete);
    if (fresh) {
      await early;
      outcome.sent.push(fresh.id);
    }
    for (const backup of missing) {
      // A run killed between the archive and its manifest left the whole archive there already.
      const archived = remote.sizes.get(`${service}/${backup.manifest.archive.file}`) === backup.bytes;
      await sendBackup(ctx, store, backup, archived);
      outcome.sent.push(backup.id);
    }
  } catch (e) {
    // The early upload never outlives the service's lock, nor goes unreported once it is done.
    const sent = await early?.catch(() => false);
    if (sent && fresh && !outcome.sent.includes(fresh.id)) outcome.sent.unshift(fresh.id);
    if (ctx.signal.aborted) throw e;
    return { ...outcome, ok: false, error: messageOf(e) };
  }
  return outcome;
}

/**
 * Whether retention keeps a backup whatever the copy holds: true of the newest, unless both
 * retention_days and keep_last are 0. Only such a backup may go up before the copy is listed.
 */
function keptAlone(backup: Backup, policy: RetentionPolicy, host: string): boolean {
  return planRetention([backup], policy, host, new Date()).keep.length === 1;
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
 * copy, under the service's lock (a restore of it waits, as for a backup); `made` holds the ids of
 * the backups this run made. Returns one outcome per service and copy.
 */
export async function sendToCopies(
  ctx: RunContext,
  copies: OpenCopy[],
  services: Service[],
  wait: boolean,
  made: ReadonlySet<string> = new Set(),
): Promise<OffsiteOutcome[]> {
  const outcomes: OffsiteOutcome[] = [];
  for (const service of services) {
    ctx.signal.throwIfAborted();
    const name = service.name;
    try {
      await withServiceLock(ctx.stateDir, service, lockOptions(ctx, name, wait), async () => {
        for (const { copy, store } of copies) outcomes.push(await sendService(ctx, copy, store, name, made));
      });
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      const error = messageOf(e);
      outcomes.push(...copies.map(({ copy }) => ({ copy: copy.name, service: name, ok: false, sent: [], error })));
    }
  }
  return outcomes;
}
