import { basename } from "node:path";
import type { RcloneCopy } from "../../config/offsite-config.ts";
import { TEMP_PREFIX } from "../../util/fs-safe.ts";
import type { PendingUpload, PutOptions, Store, StoredObject } from "../store.ts";
import { notFound, rcloneFailure } from "./failure.ts";
import { type RcloneResult, type RcloneTool, runRclone, streamRclone } from "./run.ts";

/** A temporary upload older than this is a killed run's, whatever its journal says. */
const STALE_MS = 86_400_000;

interface Listed {
  Path: string;
  Size: number;
  ModTime: string;
}

/**
 * An offsite copy in an rclone remote: backup_dir's layout under REMOTE:PATH. Each file goes up
 * under a temporary name and is then moved to its own, so a half-sent archive is never listed.
 */
export class RcloneStore implements Store {
  readonly name: string;
  readonly where: string;
  private readonly base: string;
  /**
   * The last folder listed, until a change of this store's is done: a run lists a service's folder for
   * its unfinished uploads and then for its backups, and each rclone start costs a tenth of a second.
   */
  private listed: { dir: string; entries: (Listed & { key: string })[] } | undefined;
  /** Changes done so far: a listing taken while one finished may lack it, so it is not kept. */
  private changes = 0;

  constructor(
    copy: RcloneCopy,
    private readonly tool: RcloneTool,
  ) {
    this.name = copy.name;
    this.base = copy.remote.replace(/(?<!:)\/+$/, "");
    this.where = `rclone:${this.base}${this.base.endsWith(":") ? "" : "/"}`;
  }

  private at(key: string): string {
    return this.base.endsWith(":") || key === "" ? `${this.base}${key}` : `${this.base}/${key}`;
  }

  private async run(what: string, args: string[], signal: AbortSignal, input?: Uint8Array): Promise<RcloneResult> {
    const r = await runRclone(this.tool, args, { signal, input });
    if (r.code !== 0) throw rcloneFailure(this.name, what, r, args[0] === "rcat");
    return r;
  }

  /** Every file under `prefix`'s folder, temporary ones included; a missing folder holds none. */
  private async listAll(prefix: string, signal: AbortSignal): Promise<(Listed & { key: string })[]> {
    const dir = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    let listed = this.listed;
    if (listed?.dir !== dir) {
      const seen = this.changes;
      listed = { dir, entries: await this.lsjson(dir, signal) };
      if (this.changes === seen) this.listed = listed;
    }
    return listed.entries.filter((e) => e.key.startsWith(prefix));
  }

  /** Runs a change of the copy; once it is done (or failed), the folder is listed afresh. */
  private async changing<T>(change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } finally {
      this.changes++;
      this.listed = undefined;
    }
  }

  private async lsjson(dir: string, signal: AbortSignal): Promise<(Listed & { key: string })[]> {
    const args = ["lsjson", "-R", "--files-only", "--no-mimetype", this.at(dir)];
    const r = await runRclone(this.tool, args, { signal });
    if (r.code !== 0 && notFound(r)) return [];
    if (r.code !== 0) throw rcloneFailure(this.name, `listing ${this.where}${dir}`, r);
    const entries = JSON.parse(r.stdout.toString() || "[]") as Listed[];
    return entries.map((e) => ({ ...e, key: dir ? `${dir}/${e.Path}` : e.Path }));
  }

  async list(prefix: string, signal: AbortSignal): Promise<StoredObject[]> {
    const all = await this.listAll(prefix, signal);
    return all.filter((e) => !basename(e.key).startsWith(TEMP_PREFIX)).map((e) => ({ key: e.key, bytes: e.Size }));
  }

  async read(key: string, signal: AbortSignal): Promise<Uint8Array> {
    return (await this.run(`reading ${key}`, ["cat", this.at(key)], signal)).stdout;
  }

  stream(key: string, signal: AbortSignal): AsyncIterable<Uint8Array> {
    return streamRclone(this.tool, ["cat", this.at(key)], signal, (r) => rcloneFailure(this.name, `reading ${key}`, r));
  }

  async putBytes(key: string, data: Uint8Array, signal: AbortSignal): Promise<void> {
    await this.changing(async () => this.moveIntoPlace(await this.stage(key, data, signal), key, signal));
  }

  putFile(key: string, file: string, _bytes: number, opts: PutOptions): Promise<void> {
    return this.changing(() => this.sendFile(key, file, opts));
  }

  private async sendFile(key: string, file: string, opts: PutOptions): Promise<void> {
    const tmp = tempKey(key);
    await opts.onPending?.({ key, uploadId: tmp });
    const what = `upload of ${key}`;
    const next = opts.followedBy;
    let staged: Promise<string> | undefined;
    try {
      const args = ["copyto", file, this.at(tmp), "--stats", "1s", "--use-json-log", "-v"];
      const r = await runRclone(this.tool, args, { signal: opts.signal, onStderr: (l) => progress(l, opts) });
      if (r.code !== 0) throw rcloneFailure(this.name, what, r, true);
      // The next object goes up while this one moves into place: one rclone start less to wait for.
      staged = next && this.stage(next.key, next.data, opts.signal);
      staged?.catch(() => undefined);
      await this.run(what, ["moveto", this.at(tmp), this.at(key)], opts.signal);
    } catch (e) {
      if (await this.removeQuietly(tmp)) await opts.onPending?.(undefined);
      await staged?.then(
        (t) => this.removeQuietly(t),
        () => undefined,
      );
      throw e;
    }
    await opts.onPending?.(undefined);
    if (next && staged) await this.moveIntoPlace(await staged, next.key, opts.signal);
  }

  /** `data` under a temporary name, which it resolves with; on failure that file is removed. */
  private async stage(key: string, data: Uint8Array, signal: AbortSignal): Promise<string> {
    const tmp = tempKey(key);
    try {
      await this.run(`upload of ${key}`, ["rcat", this.at(tmp)], signal, data);
    } catch (e) {
      await this.removeQuietly(tmp);
      throw e;
    }
    return tmp;
  }

  private async moveIntoPlace(tmp: string, key: string, signal: AbortSignal): Promise<void> {
    try {
      await this.run(`upload of ${key}`, ["moveto", this.at(tmp), this.at(key)], signal);
    } catch (e) {
      await this.removeQuietly(tmp);
      throw e;
    }
  }

  async remove(key: string, signal: AbortSignal): Promise<void> {
    const r = await this.changing(() => runRclone(this.tool, ["deletefile", this.at(key)], { signal }));
    if (r.code !== 0 && !notFound(r)) throw rcloneFailure(this.name, `deleting ${key}`, r);
  }

  /** Temporary files older than a day: a killed run's, which no journal of this machine names any more. */
  async pendingUploads(prefix: string, signal: AbortSignal): Promise<PendingUpload[]> {
    const now = Date.now();
    return (await this.listAll(prefix, signal))
      .filter((e) => basename(e.key).startsWith(TEMP_PREFIX) && now - Date.parse(e.ModTime) > STALE_MS)
      .map((e) => ({ key: finalKey(e.key), uploadId: e.key }));
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

/** rclone's JSON stats lines carry the bytes sent so far. */
function progress(line: string, opts: PutOptions): void {
  const m = /"stats":\{[^}]*?"bytes":(\d+)/.exec(line);
  if (m) opts.onBytes?.(Number(m[1]));
}
