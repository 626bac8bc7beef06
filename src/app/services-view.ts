import { isRegular } from "../archive/naming.ts";
import type { BackupConfig } from "../config/backup-config.ts";
import type { Service } from "../config/service-config.ts";
import { engineProblem, volumeExists } from "../docker/daemon.ts";
import { newestNotFuture } from "../retention/future.ts";
import { messageOf } from "../util/errors.ts";
import { readCatalogOrProblem } from "./catalog.ts";

export interface ServiceDescription {
  name: string;
  enabled: boolean;
  has_data: boolean;
  custom_script: boolean;
  volumes: { name: string; exists: boolean | null }[];
  containers: string[];
  newest: { id: string; created_at: string; bytes: number; host: string } | null;
  /** Ids of complete backups dated in the future: their age cannot be judged, so none is the newest. */
  dated_in_future: string[];
}

export interface Described {
  rows: ServiceDescription[];
  backupDirProblem?: string;
  engineProblem?: string;
  unreadable: string[];
}

/**
 * What `services` shows. The newest backup is any host's newest complete regular one not dated
 * in the future, judged as `status` judges this host's. Volume existence is null, with
 * `engineProblem` set, when Docker cannot be asked, and every newest backup null with
 * `backupDirProblem` set when backup_dir cannot be read.
 */
export async function describeServices(config: BackupConfig, services: Service[]): Promise<Described> {
  const { backups, backupDirProblem, unreadable } = await readCatalogOrProblem(config.backupDir);
  // Docker is asked why only once a question failed: when it answers, that costs no call.
  let problem: Promise<string> | undefined;
  const exists = async (name: string) => {
    if (problem) return null;
    try {
      return await volumeExists(name);
    } catch (e) {
      problem ??= engineProblem().then((p) => p ?? messageOf(e));
      return null;
    }
  };
  const now = new Date();
  const out: ServiceDescription[] = [];
  for (const s of services) {
    const regular = backups.filter((b) => b.service === s.name && b.complete && isRegular(b.kind));
    const { newest, future } = newestNotFuture(regular, now);
    out.push({
      name: s.name,
      enabled: config.services[s.name] === true,
      has_data: s.hasData,
      custom_script: Boolean(s.lifecycle.backup),
      volumes: await Promise.all(s.volumes.map(async (v) => ({ name: v.name, exists: await exists(v.name) }))),
      containers: [...new Set(s.volumes.flatMap((v) => (v.container ? [v.container] : [])))],
      newest: newest
        ? { id: newest.id, created_at: newest.createdAt.toISOString(), bytes: newest.bytes, host: newest.host }
        : null,
      dated_in_future: future.map((b) => b.id),
    });
  }
  return { rows: out, backupDirProblem, engineProblem: await problem, unreadable };
}
