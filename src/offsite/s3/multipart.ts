import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import type { PutOptions } from "../store.ts";
import { answerFailure, garbage } from "./failure.ts";
import type { S3Http } from "./http.ts";
import { escapeXml, textOf } from "./xml.ts";

const MiB = 1024 * 1024;
/** Parts in flight at once: enough to fill a link, few enough that memory stays flat. */
const PARALLEL = 4;
/** S3 allows at most 10,000 parts; larger files get larger parts. */
const MAX_PARTS = 10_000;
/** S3's smallest part: each part in flight is held twice (ours, and fetch's copy while it sends). */
const MIN_PART = 5 * MiB;

export function partSize(bytes: number): number {
  return Math.max(MIN_PART, Math.ceil(bytes / MAX_PARTS / MiB) * MiB);
}

export const sha256Hex = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/**
 * A file as one object, read from disk part by part so memory holds only the parts in flight.
 * A file of one part goes in one PUT; a larger one as a multipart upload, which the server
 * assembles only when told the upload is complete, so a failed one is never listed. A failure
 * aborts the upload; when even the abort fails, its id stays with onPending for the next run.
 */
export async function uploadFile(
  http: S3Http,
  copy: string,
  key: string,
  file: string,
  bytes: number,
  opts: PutOptions,
): Promise<void> {
  const size = partSize(bytes);
  const handle = await open(file, "r");
  const read = async (offset: number, length: number, into: Buffer = Buffer.allocUnsafe(length)) => {
    const data = into.subarray(0, length);
    const { bytesRead } = await handle.read(data, 0, length, offset);
    if (bytesRead !== length) throw new Error(`${file} changed while it was uploaded`);
    return data;
  };
  const what = `upload of ${key}`;
  try {
    if (bytes <= size) {
      const data = await read(0, bytes);
      await http.send({ method: "PUT", key, body: data, bodySha256: sha256Hex(data), signal: opts.signal, what });
      opts.onBytes?.(bytes);
      return;
    }
    const created = await http.send({ method: "POST", key, query: { uploads: "" }, signal: opts.signal, what });
    const uploadId = textOf(new TextDecoder().decode(created.bytes), "UploadId");
    if (!uploadId) throw garbage(copy, what);
    const pending = { key, uploadId };
    await opts.onPending?.(pending);
    try {
      const etags = await sendParts(http, key, uploadId, bytes, size, read, opts);
      await complete(http, copy, key, uploadId, etags, opts.signal);
    } catch (e) {
      const aborted = await http
        .send({ method: "DELETE", key, query: { uploadId }, signal: AbortSignal.timeout(30_000), what })
        .then(
          () => true,
          () => false,
        );
      if (aborted) await opts.onPending?.(undefined);
      throw e;
    }
    await opts.onPending?.(undefined);
  } finally {
    await handle.close();
  }
}

async function sendParts(
  http: S3Http,
  key: string,
  uploadId: string,
  bytes: number,
  size: number,
  read: (offset: number, length: number, into: Buffer) => Promise<Buffer>,
  opts: PutOptions,
): Promise<string[]> {
  const count = Math.ceil(bytes / size);
  const etags: string[] = new Array(count);
  let next = 0;
  let sent = 0;
  const worker = async () => {
    // One buffer per worker, reused for each of its parts: a fresh one per part left every sent
    // part to the garbage collector, and memory grew with the parts sent before a collection.
    const buffer = Buffer.allocUnsafe(size);
    while (next < count) {
      const index = next++;
      const offset = index * size;
      const data = await read(offset, Math.min(size, bytes - offset), buffer);
      const partNumber = String(index + 1);
      const what = `upload of ${key} (part ${partNumber} of ${count})`;
      const query = { partNumber, uploadId };
      const answer = await http.send({
        method: "PUT",
        key,
        query,
        body: data,
        bodySha256: sha256Hex(data),
        signal: opts.signal,
        what,
      });
      etags[index] = answer.headers.get("etag") ?? "";
      sent += data.length;
      opts.onBytes?.(sent);
    }
  };
  // One failing part fails the upload; the others stop at their next part.
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, count) }, () =>
      worker().catch((e) => {
        next = count;
        throw e;
      }),
    ),
  );
  return etags;
}

async function complete(
  http: S3Http,
  copy: string,
  key: string,
  uploadId: string,
  etags: string[],
  signal: AbortSignal,
) {
  const parts = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`);
  const body = Buffer.from(`<CompleteMultipartUpload>${parts.join("")}</CompleteMultipartUpload>`);
  const what = `completing the upload of ${key}`;
  const query = { uploadId };
  const answer = await http.send({ method: "POST", key, query, body, bodySha256: sha256Hex(body), signal, what });
  // S3 may answer 200 and still fail the completion, in the body.
  const text = new TextDecoder().decode(answer.bytes);
  if (/<Error>/.test(text)) throw answerFailure(copy, 500, text, what);
  if (!/<CompleteMultipartUploadResult/.test(text)) throw garbage(copy, what);
}
