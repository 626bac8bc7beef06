import { rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { MANIFEST_FORMAT } from "../archive/manifest.ts";
import { archiveName, type BackupKind, ENCRYPTED_SUFFIX } from "../archive/naming.ts";
import { sealFile } from "../archive/writer.ts";
import type { Service } from "../config/service-config.ts";
import type { Sealed } from "../encryption/age-header.ts";
import { ensurePrivateDir, tempPathFor } from "../util/fs-safe.ts";
import { VERSION } from "../util/version.ts";
import { newSealing } from "./archive-sealing.ts";
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
  const sealing = await newSealing(ctx.config.encryption);
  const encrypted = sealing !== undefined;
  const { id, created } = await freeName(folder, service.name, ctx.host, ctx.config.compression, encrypted);
  const file = join(folder, archiveName(id, ctx.config.compression, encrypted));
  ctx.reporter.step(service.name, `running ${service.lifecycle.backup}`);
  const written = sealing
    ? await sealedScriptBackup(ctx, service, file, sealing.sealed)
    : await scriptBackup(ctx, service, tempPathFor(file));
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
      file: archiveName(id, ctx.config.compression, encrypted),
      bytes: written.bytes,
      sha256: written.sha256,
      compression: ctx.config.compression,
      encryption: sealing?.entry,
    },
    duration_ms: Date.now() - started,
    downtime_ms: 0,
    containers_stopped: [],
    warnings: [],
    custom_script: true,
    restoring: what.restoring,
  });
}

/**
 * The script writes its archive in the clear into the state folder, which stays on this machine
 * (backup_dir may be a synced folder that would upload it); what is kept is that file sealed.
 */
async function sealedScriptBackup(ctx: RunContext, service: Service, file: string, sealed: Sealed) {
  await ensurePrivateDir(ctx.stateDir);
  const plain = tempPathFor(join(ctx.stateDir, basename(file, ENCRYPTED_SUFFIX)));
  try {
    await scriptBackup(ctx, service, plain);
    return await sealFile(plain, file, sealed, ctx.signal);
  } finally {
    await rm(plain, { force: true });
  }
}
