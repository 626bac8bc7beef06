/**
 * Frames that compression cannot shrink (photos, videos, archives, encrypted data) are stored as
 * they are, in a zstd frame of raw blocks (RFC 8878) that every zstd reads. zstd would spend CPU
 * to produce the same bytes, and on a small machine that CPU is taken from Docker's side of the backup.
 */
import { threadPoolZstd } from "../system/runtime.ts";
import { MAGIC } from "./zstd-frame.ts";

const MAX_BLOCK = 128 << 10;
/** Single_Segment (the window is the content, no window descriptor) and a 4-byte Frame_Content_Size. */
const DESCRIPTOR = (2 << 6) | (1 << 5);
const HEADER_BYTES = 9;

/** Samples spread over the frame, each compressed on its own. */
const SAMPLES = 8;
const SAMPLE_BYTES = 4096;
/** A sample that zstd shrinks by 3% or more means the frame is worth compressing. */
const SHRINK = 0.97;

/**
 * True when no sample of `frame` compresses: then it is random-looking throughout, or nearly so
 * (any tar header, text or run of zeros in a sample gets the whole frame compressed).
 */
export function looksIncompressible(frame: Buffer, level: number): boolean {
  if (frame.length < SAMPLES * SAMPLE_BYTES) return false;
  const step = Math.floor((frame.length - SAMPLE_BYTES) / (SAMPLES - 1));
  for (let i = 0; i < SAMPLES; i++) {
    const sample = frame.subarray(i * step, i * step + SAMPLE_BYTES);
    if (threadPoolZstd.compressSync(sample, level).length < SAMPLE_BYTES * SHRINK) return false;
  }
  return true;
}

/** `content` (a copy: the caller reuses its buffer) as one zstd frame of raw blocks. */
export function storedFrame(content: Buffer): Buffer {
  const blocks = Math.max(1, Math.ceil(content.length / MAX_BLOCK));
  const out = Buffer.allocUnsafe(HEADER_BYTES + blocks * 3 + content.length);
  out.writeUInt32LE(MAGIC, 0);
  out[4] = DESCRIPTOR;
  out.writeUInt32LE(content.length, 5);
  let at = HEADER_BYTES;
  for (let i = 0; i < blocks; i++) {
    const part = content.subarray(i * MAX_BLOCK, (i + 1) * MAX_BLOCK);
    const last = i === blocks - 1 ? 1 : 0;
    out.writeUIntLE((part.length << 3) | last, at, 3); // Block_Type 0: raw
    at += 3 + part.copy(out, at + 3);
  }
  return out;
}
