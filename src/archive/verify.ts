import { createHash } from "node:crypto";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { decryptor } from "../encryption/age-decrypt.ts";
import type { OpeningKeys } from "../encryption/age-header.ts";
import { messageOf, systemErrorText } from "../util/errors.ts";
import { consumed } from "../util/release.ts";
import { ArchiveSource } from "./archive-file.ts";
import { volumeOfEntry } from "./entry-rules.ts";
import { isEncrypted, type Manifest } from "./manifest.ts";
import type { TarHeader } from "./tar-header.ts";
import { tarStages } from "./tar-stages.ts";
import { TarWalker } from "./tar-walker.ts";

export interface VerifyResult {
  ok: boolean;
  problems: string[];
  /** False when only the size and sha256 could be checked: an encrypted archive read without its key. */
  contents: boolean;
}

export interface VerifyOptions {
  signal?: AbortSignal;
  onBytes?: (bytes: number) => void;
  /** Further checks per entry (restore adds its own); throw to reject. */
  onEntry?: (entry: TarHeader, volume: string) => void;
  /** The content of the entry last given to onEntry, in pieces (TarWalker's onData). */
  onData?: (data: Buffer) => void;
  /** Leave the archive in the page cache: restore reads it again right after. */
  keepCached?: boolean;
  /** What opens an encrypted archive; without, only its size and sha256 are checked. */
  keys?: OpeningKeys;
}

/**
 * Reads an archive to its end: sha256 and size against the manifest, age's authentication of
 * every chunk when encrypted, a decompressor that fails on truncation or corruption, every tar
 * header checked, every entry inside its volume, and the counts per volume equal to what the
 * manifest says was written.
 */
export async function verifyArchive(file: string, manifest: Manifest, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const problems: string[] = [];
  const hash = createHash("sha256");
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _e, done) {
      hash.update(chunk);
      bytes += chunk.length;
      opts.onBytes?.(bytes);
      done(null, chunk);
    },
  });
  const volumes = new Set(manifest.volumes.map((v) => v.name));
  const counts = new Map<string, { files: number; bytes: number }>();
  const walker = new TarWalker({
    onEntry(entry) {
      const volume = volumeOfEntry(entry, volumes);
      const c = counts.get(volume) ?? { files: 0, bytes: 0 };
      if (entry.type === "file") {
        c.files++;
        c.bytes += entry.size;
      }
      counts.set(volume, c);
      opts.onEntry?.(entry, volume);
    },
    onData: opts.onData,
  });
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      consumed(chunk);
      done();
    },
  });
  let source: ArchiveSource | undefined;
  const contents = !isEncrypted(manifest) || opts.keys !== undefined;
  let stages: Transform[] = [];
  try {
    // The decompressor peeks at the file first (its age header opened, when sealed). When that
    // fails, the file is still read whole: its size and sha256 are then reported as they are.
    if (contents) stages = await contentStages(file, manifest, walker, opts.keys);
  } catch (e) {
    if (isOpenError(e)) return { ok: false, problems: [`unreadable: ${systemErrorText(e)}`], contents };
    problems.push(`unreadable: ${messageOf(e)}`);
  }
  try {
    source = new ArchiveSource(file, { keepCached: opts.keepCached });
    await pipeline([source, tap, ...stages, sink], { signal: opts.signal });
  } catch (e) {
    source?.destroy();
    if (opts.signal?.aborted) throw e;
    // A file we cannot open (another user's, mode 0600) has no size or hash worth comparing.
    if (isOpenError(e)) return { ok: false, problems: [`unreadable: ${systemErrorText(e)}`], contents };
    problems.push(`unreadable: ${messageOf(e)}`);
  }
  if (bytes !== manifest.archive.bytes)
    problems.push(
      `size is ${bytes} bytes, the manifest says ${manifest.archive.bytes} (incomplete download or truncated file?)`,
    );
  const sha = hash.digest("hex");
  if (sha !== manifest.archive.sha256) problems.push(`sha256 is ${sha}, the manifest says ${manifest.archive.sha256}`);
  if (problems.length === 0 && contents) {
    for (const v of manifest.volumes) {
      const c = counts.get(v.name) ?? { files: 0, bytes: 0 };
      if (c.files !== v.files || c.bytes !== v.bytes)
        problems.push(
          `volume ${v.name}: ${c.files} files / ${c.bytes} bytes in the archive, ` +
            `the manifest says ${v.files} / ${v.bytes}`,
        );
    }
  }
  return { ok: problems.length === 0, problems, contents };
}

/** A lifecycle script's file is opaque to us: beyond age's authentication, its hash and size are all there is. */
async function contentStages(
  file: string,
  manifest: Manifest,
  walker: TarWalker,
  keys: OpeningKeys | undefined,
): Promise<Transform[]> {
  if (!manifest.custom_script) return [...(await tarStages(file, manifest.archive, keys)), walker];
  return isEncrypted(manifest) && keys ? [await decryptor(keys)] : [];
}

function isOpenError(e: unknown): e is NodeJS.ErrnoException {
  return (e as NodeJS.ErrnoException).syscall === "open";
}
