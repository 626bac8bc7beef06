import { join } from "node:path";
import { MANIFEST_FORMAT } from "../archive/manifest.ts";
import { archiveName, type BackupKind } from "../archive/naming.ts";
import type { Service } from "../config/service-config.ts";
import { tempPathFor } from "../util/fs-safe.ts";
import { VERSION } from "../util/version.ts";
import { type BackupResult, freeName, saveBackup } from "./backup-files.ts";
import type { RunContext } from "./context.ts";
import { scriptBackup } from "./lifecycle.ts";

/** lifecycle.backup writes the archive itself; it is published like any other backup. */
export async function customBackup(
  ctx: RunContext,
  service: Service,
  what: { kind: BackupKind; restoring?: string },
  folder: string,
  started: number,
): Promise<BackupResult> {
  const { id, created } = await freeName(folder, service.name, ctx.host, ctx.config.compression);
  ctx.reporter.step(service.name, `running ${service.lifecycle.backup}`);
  const written = await scriptBackup(ctx, service, tempPathFor(join(folder, archiveName(id, ctx.config.compression))));
  return saveBackup(folder, written.file, {
    format: MANIFEST_FORMAT,
    id,
    service: service.name,
    host: ctx.host,
    created_at: created.toISOString(),
    kind: what.kind,
    tool_version: VERSION,
    volumes: [],
    archive: {
      file: archiveName(id, ctx.config.compression),
      bytes: written.bytes,
      sha256: written.sha256,
      compression: ctx.config.compression,
    },
    duration_ms: Date.now() - started,
    downtime_ms: 0,
    containers_stopped: [],
    warnings: [],
    custom_script: true,
    restoring: what.restoring,
  });
}
