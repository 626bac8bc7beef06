/**
 * An archive file written and hashed on a thread of its own (file-writer-worker.ts). The main
 * thread reads Docker's stream and feeds the compressor; hashing there and writing through the
 * runtime's thread pool, which also runs zstd, kept both waiting on each other. Chunks the caller
 * will not touch again move to the thread without a copy. The thread ends itself once done, since
 * `terminate()` followed by a new worker has left Bun spinning (docs/design.md).
 */
import { workerUrl } from "./runtime.ts";

export type FileWriterRequest =
  | { open: string; mode: number }
  | { chunk: Uint8Array }
  | { finish: true }
  | { close: true };
export type FileWriterReply = { ok: true } | { sha256: string } | { error: { message: string; code?: string } };

interface Pending {
  resolve: (reply: FileWriterReply) => void;
  reject: (e: Error) => void;
}

export class FileWriter {
  private readonly worker = new Worker(workerUrl("system/file-writer-worker.ts"), { type: "module" });
  private readonly pending: Pending[] = [];
  private failure: Error | undefined;
  /** The thread has ended itself: after finish, close or a failure. */
  private ended = false;

  private constructor() {
    this.worker.onmessage = ({ data }: MessageEvent<FileWriterReply>) => {
      if ("error" in data) return this.fail(Object.assign(new Error(data.error.message), { code: data.error.code }));
      this.pending.shift()?.resolve(data);
    };
    this.worker.onerror = (event: ErrorEvent) => {
      event.preventDefault?.();
      this.fail(new Error(`the archive's writer thread failed: ${event.message}`));
    };
  }

  /** Creates (or truncates) `path` with `mode`. */
  static async open(path: string, mode: number): Promise<FileWriter> {
    const writer = new FileWriter();
    await writer.ask({ open: path, mode });
    return writer;
  }

  /** Resolves once the whole chunk is written. `owned`: the caller never reads or reuses it again. */
  async write(chunk: Uint8Array, owned: boolean): Promise<void> {
    const whole = owned && chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
    const moving = whole ? chunk : new Uint8Array(chunk);
    await this.ask({ chunk: moving }, [moving.buffer as ArrayBuffer]);
  }

  /** Syncs the file to disk and closes it; resolves with the sha256 of everything written. */
  async finish(): Promise<string> {
    const reply = await this.ask({ finish: true });
    this.ended = true;
    return (reply as { sha256: string }).sha256;
  }

  /** Closes the file (if open) and ends the thread; never fails. */
  async close(): Promise<void> {
    if (!this.ended && !this.failure) await this.ask({ close: true }).catch(() => undefined);
    this.ended = true;
  }

  private ask(request: FileWriterRequest, transfer: ArrayBuffer[] = []): Promise<FileWriterReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.worker.postMessage(request, transfer);
    });
  }

  /** After a failure the thread answers nothing more: everyone waiting learns of it now. */
  private fail(e: Error): void {
    this.failure ??= e;
    for (const { reject } of this.pending.splice(0)) reject(this.failure);
  }
}
