import type { BackupConfig } from "../config/backup-config.ts";
import type { Service } from "../config/service-config.ts";
import { volumeExists } from "../docker/engine.ts";
import { readCatalogOrProblem } from "./catalog.ts";

export interface ServiceDescription {
  name: string;
  enabled: boolean;
  has_data: boolean;
  custom_script: boolean;
  volumes: { name: string; exists: boolean | null }[];
  containers: string[];
  newest: { id: string; created_at: string; bytes: number; host: string } | null;
}

/**
 * What `services` shows; volume existence is null when Docker cannot be asked, and every newest
 * backup null with `backupDirProblem` set when backup_dir cannot be read.
 */
export async function describeServices(config: BackupConfig, services: Service[]): Promise<{ rows: ServiceDescription[]; backupDirProblem?: string; unreadable: string[] }> {
  const { backups, backupDirProblem, unreadable } = await readCatalogOrProblem(config.backupDir);
  let dockerUp = true;
  const exists = async (name: string) => {
    if (!dockerUp) return null;
    return volumeExists(name).catch(() => ((dockerUp = false), null));
  };
  const out: ServiceDescription[] = [];
  for (const s of services) {
    const newest = backups.find((b) => b.service === s.name);
    out.push({
      name: s.name,
      enabled: config.services[s.name] === true,
      has_data: s.hasData,
      custom_script: Boolean(s.lifecycle.backup),
      volumes: await Promise.all(s.volumes.map(async (v) => ({ name: v.name, exists: await exists(v.name) }))),
      containers: [...new Set(s.volumes.flatMap((v) => (v.container ? [v.container] : [])))],
      newest: newest ? { id: newest.id, created_at: newest.createdAt.toISOString(), bytes: newest.bytes, host: newest.host } : null,
    });
  }
  return { rows: out, backupDirProblem, unreadable };
}
