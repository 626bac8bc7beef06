import { writeOut } from "../cli/stdout.ts";
import { defineCommand } from "citty";
import { configArgs, jsonArg, loadConfig, printJson, serviceFilter, serviceFilterArg } from "./_shared.ts";
import { problemText, readCatalog, type Backup } from "../engine/catalog.ts";
import { logger } from "../cli/log.ts";
import { formatAge, formatBytes, formatLocal, table } from "../util/format.ts";

export function backupJson(b: Backup) {
  return {
    id: b.id, service: b.service, created_at: b.createdAt.toISOString(), host: b.host, bytes: b.bytes, file: b.file,
    manifest: b.manifestFile, volumes: b.manifest.volumes.map((v) => v.name), kind: b.kind, complete: b.complete,
  };
}

export default defineCommand({
  meta: { name: "list", description: "List backups in backup_dir, newest first (every host's)" },
  args: {
    ...serviceFilterArg,
    ...configArgs,
    ...jsonArg,
  },
  async run({ args }) {
    const loaded = loadConfig(args);
    const { config } = loaded;
    const service = await serviceFilter(loaded, args);
    const { backups, problems, copies, unreadable } = await readCatalog(config.backupDir, service);
    for (const u of unreadable) logger.warn(u);
    for (const p of problems) logger.warn(problemText(p));
    for (const c of copies) logger.info(c);
    if (args.json) return printJson(backups.map(backupJson));
    if (backups.length === 0) return logger.info(`no backups in ${config.backupDir}${service ? ` for ${service}` : ""}`);
    const rows = backups.map((b) => [
      b.id, b.service, `${formatLocal(b.createdAt)} (${formatAge(b.createdAt)})`, b.host,
      formatBytes(b.bytes) + (b.complete ? "" : " (incomplete)"), b.manifest.volumes.map((v) => v.name).join(","), b.kind,
    ]);
    writeOut(table([["ID", "SERVICE", "CREATED", "HOST", "SIZE", "VOLUMES", "KIND"], ...rows]) + "\n");
  },
});
