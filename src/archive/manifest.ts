import { readFile } from "node:fs/promises";
import * as v from "valibot";
import { KINDS } from "./naming.ts";

/** The manifest is written last, beside its archive: its presence marks the backup complete. */
export const MANIFEST_FORMAT = 1;

const Kind = v.picklist(KINDS);
export const AGE_FORMAT = "age-encryption.org/v1";
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));

const ManifestSchema = v.object({
  format: v.literal(MANIFEST_FORMAT),
  id: v.string(),
  service: v.string(),
  host: v.string(),
  created_at: v.pipe(v.string(), v.isoTimestamp()),
  kind: Kind,
  tool_version: v.string(),
  volumes: v.array(
    v.object({
      name: v.string(),
      bytes: Count,
      files: Count,
      entries: v.optional(Count, 0),
      devices: v.optional(Count, 0),
      setuid: v.optional(Count, 0),
      links_out: v.optional(Count, 0),
    }),
  ),
  archive: v.object({
    file: v.string(),
    bytes: Count,
    sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
    compression: v.picklist(["zstd", "gzip"]),
    /** Sealed with age after compression: the size and sha256 above are the encrypted file's. */
    encryption: v.optional(
      v.object({
        format: v.literal(AGE_FORMAT),
        /** The public keys it was sealed for (never an identity); empty when sealed with a passphrase. */
        recipients: v.array(v.string()),
        passphrase: v.boolean(),
      }),
    ),
  }),
  duration_ms: Count,
  downtime_ms: Count,
  containers_stopped: v.optional(v.array(v.string()), []),
  warnings: v.optional(v.array(v.string()), []),
  custom_script: v.optional(v.boolean(), false),
  /** A pre-restore backup's: the id of the backup whose restore replaced this data (absent before it was recorded). */
  restoring: v.optional(v.string()),
});

export type Manifest = v.InferOutput<typeof ManifestSchema>;
export type ArchiveEncryption = NonNullable<Manifest["archive"]["encryption"]>;

export function isEncrypted(m: Manifest): boolean {
  return m.archive.encryption !== undefined;
}

export function parseManifest(text: string): Manifest | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return `not valid JSON (${(e as Error).message})`;
  }
  const r = v.safeParse(ManifestSchema, json);
  if (r.success) return r.output;
  const issue = r.issues[0];
  return `${v.getDotPath(issue) ?? "manifest"}: ${issue.message}`;
}

export async function readManifest(file: string): Promise<Manifest | string> {
  try {
    return parseManifest(await readFile(file, "utf8"));
  } catch (e) {
    return (e as Error).message;
  }
}
