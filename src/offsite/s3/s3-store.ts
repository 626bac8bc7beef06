import type { S3Copy } from "../../config/offsite-config.ts";
import type { PendingUpload, PutOptions, Store, StoredObject } from "../store.ts";
import { OffsiteError } from "../store.ts";
import type { Credentials } from "./credentials.ts";
import { garbage } from "./failure.ts";
import { S3Http } from "./http.ts";
import { sha256Hex, uploadFile } from "./multipart.ts";
import { elements, textOf } from "./xml.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** An offsite copy in an S3 bucket: keys are the copy's prefix plus backup_dir's own layout. */
export class S3Store implements Store {
  readonly name: string;
  readonly where: string;
  private readonly http: S3Http;
  private readonly root: string;

  constructor(copy: S3Copy, credentials: Credentials, timeoutSeconds: number) {
    this.name = copy.name;
    this.root = copy.prefix ? `${copy.prefix}/` : "";
    this.where = `s3://${copy.bucket}/${this.root}`;
    this.http = new S3Http({ ...copy, copy: copy.name, timeoutSeconds }, credentials);
  }

  async list(prefix: string, signal: AbortSignal): Promise<StoredObject[]> {
    const found: StoredObject[] = [];
    let token: string | undefined;
    const what = `listing ${this.where}`;
    do {
      const query: Record<string, string> = { "list-type": "2", prefix: this.root + prefix };
      if (token) query["continuation-token"] = token;
      const xml = text((await this.http.send({ method: "GET", query, signal, what })).bytes);
      if (!/<ListBucketResult[\s>]/.test(xml)) throw garbage(this.name, what);
      for (const item of elements(xml, "Contents")) {
        const key = textOf(item, "Key") ?? "";
        if (key.startsWith(this.root))
          found.push({ key: key.slice(this.root.length), bytes: Number(textOf(item, "Size")) });
      }
      token = textOf(xml, "IsTruncated") === "true" ? textOf(xml, "NextContinuationToken") : undefined;
    } while (token);
    return found;
  }

  async read(key: string, signal: AbortSignal): Promise<Uint8Array> {
    return (await this.http.send({ method: "GET", key: this.root + key, signal, what: `reading ${key}` })).bytes;
  }

  async *stream(key: string, signal: AbortSignal): AsyncIterable<Uint8Array> {
    const { body } = await this.http.open({ method: "GET", key: this.root + key, signal, what: `reading ${key}` });
    yield* body;
  }

  async putBytes(key: string, data: Uint8Array, signal: AbortSignal): Promise<void> {
    const what = `upload of ${key}`;
    await this.http.send({
      method: "PUT",
      key: this.root + key,
      body: data,
      bodySha256: sha256Hex(data),
      signal,
      what,
    });
  }

  async putFile(key: string, file: string, bytes: number, opts: PutOptions): Promise<void> {
    const relative: PutOptions = {
      ...opts,
      onPending: opts.onPending && ((u) => opts.onPending!(u && { ...u, key: u.key.slice(this.root.length) })),
    };
    await uploadFile(this.http, this.name, this.root + key, file, bytes, relative);
    if (opts.followedBy) await this.putBytes(opts.followedBy.key, opts.followedBy.data, opts.signal);
  }

  async remove(key: string, signal: AbortSignal): Promise<void> {
    await this.http.send({ method: "DELETE", key: this.root + key, signal, what: `deleting ${key}` });
  }

  async pendingUploads(prefix: string, signal: AbortSignal): Promise<PendingUpload[] | "unsupported"> {
    const query = { uploads: "", prefix: this.root + prefix };
    try {
      const xml = text(
        (await this.http.send({ method: "GET", query, signal, what: "listing unfinished uploads" })).bytes,
      );
      return elements(xml, "Upload").map((u) => ({
        key: (textOf(u, "Key") ?? "").slice(this.root.length),
        uploadId: textOf(u, "UploadId") ?? "",
      }));
    } catch (e) {
      if (e instanceof OffsiteError && /NotImplemented|HTTP 501/.test(e.reason)) return "unsupported";
      throw e;
    }
  }

  async abortUpload(upload: PendingUpload, signal: AbortSignal): Promise<void> {
    const query = { uploadId: upload.uploadId };
    const what = `aborting the unfinished upload of ${upload.key}`;
    await this.http.send({ method: "DELETE", key: this.root + upload.key, query, signal, what });
  }
}
