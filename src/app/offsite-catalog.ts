import { join } from "node:path";
import { parseManifest } from "../archive/manifest.ts";
import { MANIFEST_SUFFIX, parseId, SERVICE_NAME } from "../archive/naming.ts";
import type { Store } from "../offsite/store.ts";
import type { Backup, Catalog, Problem } from "./catalog.ts";
import { checkManifest } from "./manifest-check.ts";

/** A backup in an offsite copy: its manifest is there (written last), its archive may not be whole. */
export interface RemoteBackup extends Omit<Backup, "file" | "manifestFile" | "locations"> {
  copy: string;
  archiveKey: string;
  manifestKey: string;
}

export interface RemoteCatalog {
  copy: string;
  backups: RemoteBackup[];
  problems: Problem[];
  /** Every object listed, by key: what is there besides the backups (an archive still without its manifest). */
  sizes: Map<string, number>;
}

/** Manifests read at once from one copy: enough to hide the round trips, few enough for any server. */
const PARALLEL_READS = 8;

/**
 * Every backup in one offsite copy, newest first, judged as backup_dir's are: a manifest whose
 * name, host or date contradict it is a problem, anything not named like a backup is not ours.
 */
export async function readRemoteCatalog(store: Store, signal: AbortSignal, service?: string): Promise<RemoteCatalog> {
  const objects = await store.list(service ? `${service}/` : "", signal);
  const sizes = new Map(objects.map((o) => [o.key, o.bytes]));
  const catalog: RemoteCatalog = { copy: store.name, backups: [], problems: [], sizes };
  const manifests = objects.flatMap((o) => {
    const m = /^([^/]+)\/([^/]+)\.json$/.exec(o.key);
    const parsed = m && SERVICE_NAME.test(m[1]!) ? parseId(m[2]!) : undefined;
    return parsed && parsed.service === m![1] ? [{ key: o.key, parsed }] : [];
  });
  let next = 0;
  const reader = async () => {
    while (next < manifests.length) {
      const { key, parsed } = manifests[next++]!;
      const problem = (reason: string) =>
        void catalog.problems.push({ file: `${store.where}${key}`, id: parsed.id, reason });
      const check = checkManifest(
        parseManifest(new TextDecoder().decode(await store.read(key, signal))),
        parsed,
        parsed.service,
      );
      if (check === "copy") continue;
      if (typeof check === "string") {
        problem(check);
        continue;
      }
      const { manifest, createdAt } = check;
      const archiveKey = `${parsed.service}/${manifest.archive.file}`;
      const size = sizes.get(archiveKey);
      if (size === undefined) {
        problem(`its archive ${manifest.archive.file} is missing`);
        continue;
      }
      catalog.backups.push({
        copy: store.name,
        id: manifest.id,
        service: parsed.service,
        host: manifest.host,
        createdAt,
        kind: manifest.kind,
        bytes: manifest.archive.bytes,
        complete: size === manifest.archive.bytes,
        manifest,
        archiveKey,
        manifestKey: key,
      });
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_READS }, reader));
  catalog.backups.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id));
  return catalog;
}

/**
 * backup_dir's backups and every copy's in one list: each backup once, its `locations` saying
 * where it is whole. One that is only offsite gets the paths it will have once fetched.
 */
export function mergeCopies(local: Catalog | undefined, remotes: RemoteCatalog[], backupDir: string): Backup[] {
  const byId = new Map<string, Backup>();
  for (const b of local?.backups ?? []) byId.set(b.id, { ...b, locations: [...b.locations] });
  for (const remote of remotes) {
    for (const r of remote.backups) {
      const known = byId.get(r.id);
      if (known) {
        if (!r.complete) continue;
        // A local archive still arriving (a sync client) is no copy to restore from; this one is.
        if (!known.complete) Object.assign(known, { complete: true, locations: [] });
        known.locations.push(remote.copy);
        continue;
      }
      const { copy: _copy, archiveKey: _a, manifestKey: _m, ...fields } = r;
      const folder = join(backupDir, r.service);
      byId.set(r.id, {
        ...fields,
        file: join(folder, r.manifest.archive.file),
        manifestFile: join(folder, r.id + MANIFEST_SUFFIX),
        locations: r.complete ? [remote.copy] : [],
      });
    }
  }
  return [...byId.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id));
}
