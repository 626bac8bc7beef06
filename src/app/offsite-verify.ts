import { createHash } from "node:crypto";
import type { Store } from "../offsite/store.ts";
import type { RemoteBackup } from "./offsite-catalog.ts";
import { reasonOf } from "./offsite-orphans.ts";

/**
 * An offsite archive read to its end, its size and sha256 against the manifest beside it: what a
 * restore from that copy would check, without writing anything here.
 */
export async function verifyRemote(
  store: Store,
  backup: RemoteBackup,
  signal: AbortSignal,
  onBytes?: (bytes: number) => void,
): Promise<{ ok: boolean; problems: string[] }> {
  const hash = createHash("sha256");
  let bytes = 0;
  try {
    for await (const piece of store.stream(backup.archiveKey, signal)) {
      hash.update(piece);
      bytes += piece.length;
      onBytes?.(bytes);
    }
  } catch (e) {
    if (signal.aborted) throw e;
    return { ok: false, problems: [`cannot read ${backup.archiveKey}: ${reasonOf(e)}`] };
  }
  const problems: string[] = [];
  const expected = backup.manifest.archive;
  if (bytes !== expected.bytes) problems.push(`size is ${bytes} bytes, the manifest says ${expected.bytes}`);
  const sha = hash.digest("hex");
  if (sha !== expected.sha256) problems.push(`sha256 is ${sha}, the manifest says ${expected.sha256}`);
  return { ok: problems.length === 0, problems };
}
