import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { TarWalker, type WalkStats } from "../archive/tar-walker.ts";
import { dockerError, exitOf, spawnDocker } from "./run.ts";
import type { Helper } from "./helper.ts";

export interface VolumeStats {
  name: string;
  bytes: number;
  files: number;
  entries: number;
  devices: number;
  setuid: number;
}

/**
 * One tar stream holding every volume under a top-level folder of its name: each volume is
 * read with `docker cp` (the Docker API's own fast path), end markers between them dropped.
 * `onEnd` fires as soon as the last byte has left Docker, so containers can start again
 * while compression and hashing finish.
 */
export function volumesTar(helper: Helper, volumes: string[], stats: VolumeStats[], signal: AbortSignal, onEnd: () => void): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    try {
      for (const volume of volumes) {
        const walker = new TarWalker({ stripEnd: true });
        yield* copyOut(helper, volume, walker, signal);
        stats.push({ name: volume, ...pick(walker.stats) });
      }
    } finally {
      onEnd();
    }
    yield Buffer.alloc(1024);
  }
  return Readable.from(generate(), { objectMode: false, highWaterMark: 1 << 20 });
}

function pick(s: WalkStats) {
  return { bytes: s.bytes, files: s.files, entries: s.entries, devices: s.devices, setuid: s.setuid };
}

async function* copyOut(helper: Helper, volume: string, walker: TarWalker, signal: AbortSignal): AsyncGenerator<Buffer> {
  const child = spawnDocker(["cp", `${helper.name}:${helper.pathOf(volume)}`, "-"]);
  const stderr: Buffer[] = [];
  child.stderr?.on("data", (b: Buffer) => stderr.push(b));
  const kill = () => child.kill("SIGTERM");
  signal.addEventListener("abort", kill, { once: true });
  const exited = exitOf(child);
  const piped = pipeline(child.stdout!, walker);
  // Its failure surfaces through the iteration below or the awaited promise, never unhandled.
  piped.catch(() => undefined);
  try {
    for await (const chunk of walker) yield chunk as Buffer;
    const code = await exited;
    if (code !== 0) throw dockerError(`reading volume ${volume}`, Buffer.concat(stderr).toString());
    await piped;
  } finally {
    signal.removeEventListener("abort", kill);
    if (child.exitCode === null) child.kill("SIGTERM");
  }
}
