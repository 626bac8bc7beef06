import { MANIFEST_SUFFIX, parseArchiveName, parseId, safeHost } from "../archive/naming.ts";
import { OffsiteError, type PendingUpload, type Store } from "../offsite/store.ts";
import { messageOf } from "../util/errors.ts";

/** An error's text without the copy's name, for messages that already start with it. */
export const reasonOf = (e: unknown) => (e instanceof OffsiteError ? e.reason : messageOf(e));

import { pendingRecords, recordPending } from "./upload-journal.ts";

/** Stores already warned that they cannot list unfinished uploads: said once a run, not per service. */
const warned = new WeakSet<Store>();

/**
 * Aborts this host's unfinished uploads of `service` (every service's when undefined) that no live
 * run is sending: those the journal names (a run killed mid-upload), and those the server lists,
 * where it can, but for the keys this run is sending meanwhile (`sending`: its journal record may
 * come after the journal was read). Housekeeping: a failure is a warning, never a failed backup.
 */
export async function abortOrphans(
  store: Store,
  stateDir: string,
  host: string,
  service: string | undefined,
  signal: AbortSignal,
  warn: (message: string) => void,
  sending: string[] = [],
): Promise<string[]> {
  const folder = service === undefined ? "" : `${service}/`;
  const records = (await pendingRecords(stateDir, store.name)).filter((r) => r.key.startsWith(folder));
  const live = new Set(records.filter((r) => r.live).map((r) => r.uploadId));
  const targets = new Map<string, PendingUpload>(records.filter((r) => !r.live).map((r) => [r.uploadId, r]));
  const listed = await store.pendingUploads(folder, signal).catch((e) => {
    warn(`cannot list unfinished uploads: ${reasonOf(e)}`);
    return [];
  });
  if (listed === "unsupported" && !warned.has(store)) {
    warned.add(store);
    warn("the server cannot list unfinished uploads (NotImplemented): only those recorded here are aborted");
  }
  if (listed !== "unsupported")
    for (const u of listed)
      if (isMine(u.key, host) && !live.has(u.uploadId) && !sending.includes(u.key)) targets.set(u.uploadId, u);
  const aborted: string[] = [];
  for (const upload of targets.values()) {
    try {
      await store.abortUpload(upload, signal);
    } catch (e) {
      if (signal.aborted) throw e;
      // Already gone (completed, aborted or expired on the server): nothing left to clean.
      const gone = e instanceof OffsiteError && /NoSuchUpload/.test(e.reason);
      // A server without the call never will abort it: said once, not retried every night.
      const unsupported = e instanceof OffsiteError && /NotImplemented|MethodNotAllowed|HTTP 40[15]\b/.test(e.reason);
      if (unsupported) warn(`the server cannot abort the unfinished upload of ${upload.key} (${reasonOf(e)})`);
      else if (!gone) {
        warn(`cannot abort the unfinished upload of ${upload.key}: ${reasonOf(e)}`);
        continue;
      }
    }
    await recordPending(stateDir, store.name, upload.key, undefined);
    aborted.push(upload.key);
  }
  return aborted;
}

/** A key (`<service>/<archive or manifest>`) this host would have written; other hosts' uploads are theirs. */
function isMine(key: string, host: string): boolean {
  const [service, name, ...rest] = key.split("/");
  if (rest.length > 0 || !name) return false;
  const id = name.endsWith(MANIFEST_SUFFIX)
    ? parseId(name.slice(0, -MANIFEST_SUFFIX.length))
    : parseArchiveName(name)?.id;
  return id !== undefined && id.service === service && id.host === safeHost(host);
}
