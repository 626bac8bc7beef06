import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { openDecompressor } from "../archive/compress.ts";
import type { Compression } from "../archive/naming.ts";
import { createHelper } from "./helper.ts";
import { emptyVolumes } from "./runner.ts";
import { dockerError, exitOf, spawnDocker } from "./run.ts";

/**
 * Makes each volume equal to the archive: emptied first (files not in the backup must go),
 * then the archive is extracted through the Docker API with ownership kept (`docker cp -a`).
 */
export async function replaceVolumes(service: string, file: string, compression: Compression, volumes: string[], opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {}): Promise<void> {
  await emptyVolumes(volumes);
  opts.signal?.throwIfAborted();
  const helper = await createHelper(service, volumes, false);
  try {
    const child = spawnDocker(["cp", "-a", "-", `${helper.name}:/v`], ["pipe", "ignore", "pipe"]);
    const stderr: Buffer[] = [];
    child.stderr?.on("data", (b: Buffer) => stderr.push(b));
    const exited = exitOf(child);
    let bytes = 0;
    const count = new Transform({
      transform(chunk: Buffer, _e, done) {
        opts.onBytes?.((bytes += chunk.length));
        done(null, chunk);
      },
    });
    const kill = () => child.kill("SIGTERM");
    opts.signal?.addEventListener("abort", kill, { once: true });
    try {
      await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), await openDecompressor(file, compression), count, child.stdin!, { signal: opts.signal });
      const code = await exited;
      if (code !== 0) throw dockerError("extracting the archive into the volumes", Buffer.concat(stderr).toString());
    } finally {
      opts.signal?.removeEventListener("abort", kill);
      if (child.exitCode === null) child.kill("SIGTERM");
    }
  } finally {
    await helper.remove().catch(() => undefined);
  }
}
