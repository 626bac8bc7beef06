/**
 * An encrypted backup (age, one X25519 recipient) of the same shape, side by side with the plain
 * one: the archive is the plain one's, sealed, so the two differ by the cipher's cost alone.
 * The identity is made with age-encryption, the library the binary makes headers with.
 */
import fs from "node:fs";
import path from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import type { ShapeCtx } from "./context.ts";
import { measureBackup } from "./measure-backup.ts";
import { deleteBackup, type Project } from "./project.ts";
import type { Sample } from "./stats.ts";

/** The project with a second config file whose backups are encrypted for a fresh key. */
async function withEncryption(project: Project): Promise<Project> {
  const identity = await generateIdentity();
  const keyFile = path.join(project.root, "bench.key");
  fs.writeFileSync(keyFile, `${identity}\n`, { mode: 0o600 });
  const base = JSON.parse(fs.readFileSync(project.config, "utf8")) as Record<string, unknown>;
  const config = path.join(project.root, "backup-age.yaml");
  const encryption = { recipients: [await identityToRecipient(identity)], identity: keyFile };
  fs.writeFileSync(config, JSON.stringify({ ...base, encryption }, null, 2) + "\n");
  return { ...project, config };
}

export async function measureEncryptedBackup(ctx: ShapeCtx): Promise<Sample> {
  ctx.encrypted ??= await withEncryption(ctx.project);
  const { sample, backup } = await measureBackup(ctx, ctx.encrypted);
  if (!backup.file.endsWith(".age")) throw new Error(`${backup.file} is not an encrypted archive`);
  deleteBackup(backup);
  return sample;
}
