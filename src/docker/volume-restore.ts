import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ArchiveSource } from "../archive/archive-file.ts";
import type { Manifest } from "../archive/manifest.ts";
import { tarStages } from "../archive/tar-stages.ts";
import type { OpeningKeys } from "../encryption/age-header.ts";
import { localEngineSocket, uploadArchiveOnSocket } from "./api/index.ts";
import { dockerError, exitOf, spawnDocker } from "./cli.ts";
import { armEmptying, type Emptier } from "./emptier.ts";
import { createHelper } from "./helper-container.ts";

const WHAT = "extracting the archive into the volumes";

/**
 * Makes each volume equal to the archive: emptied first (files not in the backup must go),
 * then the archive is extracted through the Docker API with ownership kept (what `docker cp -a`
 * does; on a local engine straight over its socket).
 */
export async function replaceVolumes(
  service: string,
  file: string,
  archive: Manifest["archive"],
  volumes: string[],
  opts: { signal?: AbortSignal; onBytes?: (n: number) => void; emptier?: Emptier; keys?: OpeningKeys } = {},
): Promise<void> {
  // Armed by the caller before the stop, or here (a rollback).
  const emptier = opts.emptier ?? armEmptying(volumes);
  // The helper is made while the volumes are emptied: both are downtime, neither needs the other.
  const [emptied, made] = await Promise.allSettled([emptier.empty(), createHelper(service, volumes, false)]);
  try {
    if (emptied.status === "rejected") throw emptied.reason;
    if (made.status === "rejected") throw made.reason;
    const helper = made.value;
    opts.signal?.throwIfAborted();
    let bytes = 0;
    // Counted before the decompressor: the archive's size is known, so progress can show a percent.
    const stages = async (): Promise<[Readable, ...Transform[]]> => [
      new ArchiveSource(file),
      new Transform({
        transform(chunk: Buffer, _e, done) {
          bytes += chunk.length;
          opts.onBytes?.(bytes);
          done(null, chunk);
        },
      }),
      ...(await tarStages(file, archive, opts.keys)),
    ];
    const socket = await localEngineSocket();
    if (socket && (await uploadArchiveOnSocket(socket, helper.name, "/v", stages, WHAT, opts.signal))) return;
    await extractWithCli(helper.name, await stages(), opts.signal);
  } finally {
    if (made.status === "fulfilled") await made.value.remove().catch(() => undefined);
    if (!opts.emptier) await emptier.close();
  }
}

async function extractWithCli(
  helper: string,
  [source, ...through]: [Readable, ...Transform[]],
  signal?: AbortSignal,
): Promise<void> {
  const child = spawnDocker(["cp", "-a", "-", `${helper}:/v`], ["pipe", "ignore", "pipe"]);
  const stderr: Buffer[] = [];
  child.stderr?.on("data", (b: Buffer) => stderr.push(b));
  const exited = exitOf(child);
  const kill = () => child.kill("SIGTERM");
  signal?.addEventListener("abort", kill, { once: true });
  try {
    await pipeline(source, ...through, child.stdin!, { signal });
    const code = await exited;
    if (code !== 0) throw dockerError(WHAT, Buffer.concat(stderr).toString());
  } finally {
    signal?.removeEventListener("abort", kill);
    if (child.exitCode === null) child.kill("SIGTERM");
  }
}
