import type { Socket } from "node:net";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { TarWalker, type WalkStats } from "../archive/tar-walker.ts";
import { messageOf, OperationError } from "../util/errors.ts";
import { localEngineSocket, openArchiveOnSocket } from "./api/index.ts";
import { dockerError, exitOf, spawnDocker } from "./cli.ts";
import type { Helper } from "./helper-container.ts";

export interface VolumeStats {
  name: string;
  bytes: number;
  files: number;
  entries: number;
  devices: number;
  setuid: number;
  links_out: number;
}

export interface VolumesTarOptions {
  signal: AbortSignal;
  /** Fires as soon as the last byte has left Docker, so containers can start while compression finishes. */
  onEnd: () => void;
  onBytes?: (bytes: number) => void;
}

/**
 * One tar stream holding every volume under a top-level folder of its name: each volume is
 * read as `docker cp` reads it (the Docker API's archive endpoint, on a local engine straight
 * from its socket) and piped straight through, the end-of-archive blocks between volumes
 * dropped. Stats land in `stats` as each volume ends.
 */
export function volumesTar(helper: Helper, volumes: string[], stats: VolumeStats[], opts: VolumesTarOptions): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  let bytes = 0;
  const count = (chunk: Buffer) => {
    bytes += chunk.length;
    opts.onBytes?.(bytes);
  };
  (async () => {
    try {
      for (const volume of volumes) {
        const walker = new TarWalker({ stripEnd: true, freshInput: true });
        if (opts.onBytes) walker.on("data", count);
        await copyOut(helper, { volume, walker, out, signal: opts.signal });
        stats.push({ name: volume, ...pick(walker.stats) });
      }
      opts.onEnd();
      out.end(Buffer.alloc(1024));
    } catch (e) {
      opts.onEnd();
      out.destroy(e as Error);
    }
  })();
  return out;
}

function pick(s: WalkStats) {
  return {
    bytes: s.bytes,
    files: s.files,
    entries: s.entries,
    devices: s.devices,
    setuid: s.setuid,
    links_out: s.linksOut,
  };
}

/** One volume's tar on its way: read from Docker, walked, and passed on into the joined stream. */
interface Copy {
  volume: string;
  walker: TarWalker;
  out: PassThrough;
  signal: AbortSignal;
}

async function copyOut(helper: Helper, copy: Copy): Promise<void> {
  const { volume, signal } = copy;
  const socket = await localEngineSocket();
  const res = socket
    ? await openArchiveOnSocket(socket, helper.name, helper.pathOf(volume), `reading volume ${volume}`, signal)
    : undefined;
  if (res) return copyFromSocket(res, copy);
  return copyWithCli(helper, copy);
}

async function copyFromSocket(res: Socket, { volume, walker, out, signal }: Copy): Promise<void> {
  // The daemon ends the tar by closing the connection, also when it fails mid-way: only the
  // tar's own end marker says the stream is whole.
  let cut: Error | undefined;
  const early = () =>
    new OperationError(
      `reading volume ${volume}: the Docker engine ended the stream early${cut ? ` (${messageOf(cut)})` : ""}`,
    );
  let ended = false;
  res.once("error", (e: Error) => {
    cut = e;
  });
  res.once("end", () => {
    ended = true;
  });
  try {
    await pipeline(res, walker, out, { end: false, signal });
  } catch (e) {
    if (!signal.aborted && (ended || cut) && !walker.stats.ended) throw early();
    throw e;
  } finally {
    res.destroy();
  }
  if (!walker.stats.ended) throw early();
}

async function copyWithCli(helper: Helper, { volume, walker, out, signal }: Copy): Promise<void> {
  const child = spawnDocker(["cp", `${helper.name}:${helper.pathOf(volume)}`, "-"]);
  const stderr: Buffer[] = [];
  child.stderr?.on("data", (b: Buffer) => stderr.push(b));
  const kill = () => child.kill("SIGTERM");
  signal.addEventListener("abort", kill, { once: true });
  const exited = exitOf(child);
  try {
    await pipeline(child.stdout!, walker, out, { end: false, signal });
    const code = await exited;
    if (code !== 0) throw dockerError(`reading volume ${volume}`, Buffer.concat(stderr).toString());
  } catch (e) {
    const code =
      child.exitCode ?? (await Promise.race([exited, new Promise<number>((r) => setTimeout(() => r(0), 1000))]));
    // docker's own message explains more than a broken pipe does.
    if (code !== 0 && stderr.length > 0 && !signal.aborted)
      throw dockerError(`reading volume ${volume}`, Buffer.concat(stderr).toString());
    throw e;
  } finally {
    signal.removeEventListener("abort", kill);
    if (child.exitCode === null) child.kill("SIGTERM");
  }
}
