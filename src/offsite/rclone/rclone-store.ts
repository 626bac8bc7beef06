import { basename, dirname, resolve } from "node:path";
import type { RcloneCopy } from "../../config/offsite-config.ts";
import { TEMP_PREFIX } from "../../util/fs-safe.ts";
import type { PendingUpload, PutOptions, Store, StoredObject } from "../store.ts";
import { notFound, rcloneFailure } from "./failure.ts";
import { RcCallError } from "./rc-error.ts";
import type { RcloneServer } from "./rc-server.ts";

/** A temporary upload older than this is a killed run's, whatever its journal says. */
const STALE_MS = 86_400_000;

interface Listed {
  Path: string;
  Size: number;
  ModTime: string;
}

const LIST_OPTIONS = { recurse: true, filesOnly: true, noMimeType: true };

/**
 * An offsite copy in an rclone remote: backup_dir's layout under REMOTE:PATH, through one rclone
 * that stays running (RcloneServer). Each file goes up under a temporary name and is then moved to
 * its own, so a half-sent archive is never listed.
 */
export class RcloneStore implements Store {
  readonly name: string;
  readonly where: string;
  /** REMOTE:PATH, the rclone file system every key is relative to. */
  private readonly base: string;

  constructor(
    copy: RcloneCopy,
    private readonly rclone: RcloneServer,
  ) {
    this.name = copy.name;
    this.base = copy.remote.replace(/(?<!:)\/+$/, "");
    this.where = `rclone:${this.base}${this.base.endsWith(":") ? "" : "/"}`;
  }

  /** rclone's error as our message; anything else (an interruption) as it is. */
  private failure(what: string, e: unknown, writing = false): unknown {
    return e instanceof RcCallError ? rcloneFailure(this.name, what, e, writing) : e;
  }

  /** Every file under `prefix`'s folder, temporary ones included; a missing folder holds none. */
  private async listAll(prefix: string, signal: AbortSignal): Promise<Listed[]> {
    const dir = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    const params = { fs: this.base, remote: dir, opt: LIST_OPTIONS };
    try {
      const { list } = await this.rclone.call<{ list: Listed[] }>("operations/list", params, signal);
      return list.filter((e) => e.Path.startsWith(prefix));
    } catch (e) {
      if (e instanceof RcCallError && notFound(e)) return [];
      throw this.failure(`listing ${this.where}${dir}`, e);
    }
  }

  async list(prefix: string, signal: AbortSignal): Promise<StoredObject[]> {
    const all = await this.listAll(prefix, signal);
    return all.filter((e) => !basename(e.Path).startsWith(TEMP_PREFIX)).map((e) => ({ key: e.Path, bytes: e.Size }));
  }

  async read(key: string, signal: AbortSignal): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of this.stream(key, signal)) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  async *stream(key: string, signal: AbortSignal): AsyncIterable<Uint8Array> {
    try {
      yield* this.rclone.read(this.base, key, signal);
    } catch (e) {
      throw this.failure(`reading ${key}`, e);
    }
  }

  async putBytes(key: string, data: Uint8Array, signal: AbortSignal): Promise<void> {
    await this.moveIntoPlace(await this.stage(key, data, signal), key, signal);
  }

  async putFile(key: string, file: string, _bytes: number, opts: PutOptions): Promise<void> {
    const { signal, followedBy: next } = opts;
    const tmp = tempKey(key);
    await opts.onPending?.({ key, uploadId: tmp });
    let staged: Promise<string> | undefined;
    try {
      const copy = { srcFs: dirname(resolve(file)), srcRemote: basename(file), dstFs: this.base, dstRemote: tmp };
      await this.rclone.job("operations/copyfile", copy, signal, opts.onBytes).catch((e) => {
        throw this.failure(`upload of ${key}`, e, true);
      });
      // The manifest goes up, under a name no listing shows, while the archive moves into place.
      staged = next && this.stage(next.key, next.data, signal);
      staged?.catch(() => undefined);
      await this.move(tmp, key, signal);
    } catch (e) {
      if (await this.removeQuietly(tmp)) await opts.onPending?.(undefined);
      await staged?.then(
        (t) => this.removeQuietly(t),
        () => undefined,
      );
      throw e;
    }
    await opts.onPending?.(undefined);
    if (next && staged) await this.moveIntoPlace(await staged, next.key, signal);
  }

  /** `data` under a temporary name, which it resolves with; on failure that file is removed. */
  private async stage(key: string, data: Uint8Array, signal: AbortSignal): Promise<string> {
    const tmp = tempKey(key);
    try {
      await this.rclone.upload(this.base, dirname(tmp), basename(tmp), data, signal);
    } catch (e) {
      await this.removeQuietly(tmp);
      throw this.failure(`upload of ${key}`, e, true);
    }
    return tmp;
  }

  private async moveIntoPlace(tmp: string, key: string, signal: AbortSignal): Promise<void> {
    try {
      await this.move(tmp, key, signal);
    } catch (e) {
      await this.removeQuietly(tmp);
      throw e;
    }
  }

  private async move(tmp: string, key: string, signal: AbortSignal): Promise<void> {
    const move = { srcFs: this.base, srcRemote: tmp, dstFs: this.base, dstRemote: key };
    await this.rclone.job("operations/movefile", move, signal).catch((e) => {
      throw this.failure(`upload of ${key}`, e, true);
    });
  }

  async remove(key: string, signal: AbortSignal): Promise<void> {
    try {
      await this.rclone.call("operations/deletefile", { fs: this.base, remote: key }, signal);
    } catch (e) {
      if (!(e instanceof RcCallError && notFound(e))) throw this.failure(`deleting ${key}`, e);
    }
  }

  /** Temporary files older than a day: a killed run's, which no journal of this machine names any more. */
  async pendingUploads(prefix: string, signal: AbortSignal): Promise<PendingUpload[]> {
    const now = Date.now();
    return (await this.listAll(prefix, signal))
      .filter((e) => basename(e.Path).startsWith(TEMP_PREFIX) && now - Date.parse(e.ModTime) > STALE_MS)
      .map((e) => ({ key: finalKey(e.Path), uploadId: e.Path }));
  }

  async abortUpload(upload: PendingUpload, signal: AbortSignal): Promise<void> {
    await this.remove(upload.uploadId, signal);
  }

  /** Cleanup after a failure: true when the temporary file is gone. */
  private async removeQuietly(key: string): Promise<boolean> {
    return this.remove(key, AbortSignal.timeout(60_000)).then(
      () => true,
      () => false,
    );
  }
}

/** `<folder>/.tmp-<name>.<pid>`, as backup_dir's temporary names: the name carries the host, the pid the run. */
function tempKey(key: string): string {
  const slash = key.lastIndexOf("/");
  return `${key.slice(0, slash + 1)}${TEMP_PREFIX}${key.slice(slash + 1)}.${process.pid}`;
}

function finalKey(tmp: string): string {
  const slash = tmp.lastIndexOf("/");
  const name = tmp.slice(slash + 1 + TEMP_PREFIX.length).replace(/\.\d+$/, "");
  return `${tmp.slice(0, slash + 1)}${name}`;
}
