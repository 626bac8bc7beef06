/**
 * Gives a finished archive and its manifest their final names. Both are complete and synced
 * under temporary names first; the archive is renamed, then the manifest. A run killed between
 * the two renames leaves the final archive and the temporary manifest, which
 * `finishInterruptedPublish` renames into place on the next run: no complete archive is ever
 * left without its manifest (such files are never listed and never deleted).
 */
import { readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { pathExists, syncDir, tempPathFor, writeFileSynced } from "../util/fs-safe.ts";
import { isAlive } from "../util/process.ts";
import { type Manifest, readManifest } from "./manifest.ts";
import { MANIFEST_SUFFIX, manifestName, parseId, safeHost, TEMP_PREFIX } from "./naming.ts";

export async function publishBackup(
  folder: string,
  tmpArchive: string,
  manifest: Manifest,
): Promise<{ file: string; manifestFile: string }> {
  const file = join(folder, manifest.archive.file);
  const manifestFile = join(folder, manifestName(manifest.id));
  const tmpManifest = tempPathFor(manifestFile);
  let renamed = false;
  try {
    await writeFileSynced(tmpManifest, JSON.stringify(manifest, null, 2) + "\n");
    await rename(tmpArchive, file);
    renamed = true;
    await rename(tmpManifest, manifestFile);
    await syncDir(folder);
  } catch (e) {
    // Nothing stays under a final name without its manifest.
    await rm(renamed ? file : tmpArchive, { force: true });
    await rm(tmpManifest, { force: true });
    throw e;
  }
  return { file, manifestFile };
}

const TEMP_MANIFEST = new RegExp(
  `^${TEMP_PREFIX.replace(".", "\\.")}(.+)${MANIFEST_SUFFIX.replace(".", "\\.")}\\.(\\d+)$`,
);

/**
 * Completes this host's publishes that a killed run left between its two renames: the final
 * archive exists with the size its manifest records, the manifest is still temporary, and the
 * process that wrote it is gone. Returns what was made whole (with `dryRun`, what would be).
 */
export async function finishInterruptedPublish(
  folder: string,
  host: string,
  dryRun = false,
): Promise<{ id: string; tmp: string }[]> {
  const done: { id: string; tmp: string }[] = [];
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    const m = TEMP_MANIFEST.exec(name);
    const id = m && parseId(m[1]!);
    if (!m || !id || id.host !== safeHost(host) || isAlive(Number(m[2]))) continue;
    const tmp = join(folder, name);
    const manifest = await readManifest(tmp);
    // Another machine whose name has the same file-name form ("büro", "bäro") may be between its renames.
    if (typeof manifest === "string" || manifest.id !== id.id || manifest.host !== host) continue;
    const final = join(folder, manifestName(id.id));
    if (await pathExists(final)) continue; // a leftover copy: the stale-file sweep's business
    const archive = await stat(join(folder, manifest.archive.file)).catch(() => undefined);
    if (archive?.size !== manifest.archive.bytes) continue; // archive still temporary: the same
    if (!dryRun) {
      await rename(tmp, final);
      await syncDir(folder);
    }
    done.push({ id: id.id, tmp });
  }
  return done;
}
