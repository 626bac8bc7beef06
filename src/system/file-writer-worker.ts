/**
 * The thread that hashes and writes one archive file (file-writer.ts says why). Chunks arrive in
 * order, moved here without a copy; each is hashed, written in full and acknowledged with its
 * length. After the first failure the file is closed and nothing more is done: the error is the last answer.
 */

import { createHash } from "node:crypto";
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { release } from "../util/release.ts";
import type { FileWriterReply, FileWriterRequest } from "./file-writer.ts";

/** The worker's global scope: the only parts of it this thread uses. */
declare const self: { onmessage: ((event: MessageEvent<FileWriterRequest>) => void) | null; close(): void };

const hash = createHash("sha256");
let fd: number | undefined;
let failed = false;

function carryOut(request: FileWriterRequest): FileWriterReply {
  if ("open" in request) {
    fd = openSync(request.open, "w", request.mode);
    return { ok: true };
  }
  if ("chunk" in request) {
    const chunk = request.chunk;
    hash.update(chunk);
    for (let at = 0; at < chunk.length; ) at += writeSync(fd!, chunk, at, chunk.length - at);
    release(chunk); // moved here whole: no one else reads it
    return { ok: true };
  }
  if ("finish" in request) {
    fsyncSync(fd!);
    closeFile();
    return { sha256: hash.digest("hex") };
  }
  closeFile();
  return { ok: true };
}

function closeFile(): void {
  if (fd !== undefined) closeSync(fd);
  fd = undefined;
}

self.onmessage = ({ data }: MessageEvent<FileWriterRequest>) => {
  if (failed) return;
  try {
    postMessage(carryOut(data));
    if (!("open" in data || "chunk" in data)) self.close();
  } catch (e) {
    failed = true;
    try {
      closeFile();
    } catch {
      // The write's error is the one worth telling.
    }
    const { message, code } = e as NodeJS.ErrnoException;
    postMessage({ error: { message, code } });
    self.close();
  }
};
