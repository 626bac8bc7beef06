import type { Manifest } from "../archive/manifest.ts";
import { archiveName, type ParsedId, safeHost } from "../archive/naming.ts";

/** The writer stamps the id, then sets created_at a moment later (freeName); more than this is not ours. */
const STAMP_SLACK_MS = 5_000;

/**
 * Whether a manifest read from `<service>/<id>.json` (in backup_dir or an offsite copy) is the
 * backup its name says: its trusted date, "copy" for a sync client's copy of another backup's
 * manifest, or why it is damaged.
 */
export function checkManifest(
  m: Manifest | string,
  parsed: ParsedId,
  service: string,
): { manifest: Manifest; createdAt: Date } | "copy" | string {
  if (typeof m === "string") return m;
  if (m.id !== parsed.id) return "copy";
  if (
    m.service !== service ||
    safeHost(m.host) !== parsed.host ||
    m.archive.file !== archiveName(parsed.id, m.archive.compression, m.archive.encryption !== undefined)
  ) {
    return "manifest does not match its file name";
  }
  // Retention and status go by created_at: a date the name contradicts is not to be trusted.
  const createdAt = new Date(m.created_at);
  if (Math.abs(createdAt.getTime() - parsed.created.getTime()) > STAMP_SLACK_MS) {
    return (
      `created_at ${m.created_at} disagrees with the date in its file name ` +
      `(${parsed.created.toISOString()}); not trusted`
    );
  }
  return { manifest: m, createdAt };
}
