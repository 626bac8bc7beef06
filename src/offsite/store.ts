import { OperationError } from "../util/errors.ts";

/** An object in an offsite copy; keys are relative to the copy's prefix ("svc/svc_..._host.json"). */
export interface StoredObject {
  key: string;
  bytes: number;
}

/** An upload the store started but has not finished (an S3 multipart upload). */
export interface PendingUpload {
  key: string;
  uploadId: string;
}

export interface PutOptions {
  signal: AbortSignal;
  /** Bytes sent so far, as parts complete. */
  onBytes?: (sent: number) => void;
  /**
   * Called with an unfinished upload's id before its first byte is sent, and with undefined once it
   * is completed or aborted: a run killed in between leaves the id for the next run to abort.
   */
  onPending?: (upload: PendingUpload | undefined) => Promise<void>;
  /**
   * A small object (the backup's manifest) to put, as putBytes would, once the file is in place: a
   * store may send it meanwhile under a name no listing shows, and only move it into place after.
   */
  followedBy?: { key: string; data: Uint8Array };
}

/**
 * What backup, list, restore, verify and prune need of an offsite copy, whatever holds it.
 * Every failure is an OffsiteError whose message names the copy and says what went wrong.
 */
export interface Store {
  readonly name: string;
  /** Where the copy is, for messages: never with a secret in it. */
  readonly where: string;
  /** Every object whose key starts with `prefix`. */
  list(prefix: string, signal: AbortSignal): Promise<StoredObject[]>;
  /** A small object (a manifest) whole. */
  read(key: string, signal: AbortSignal): Promise<Uint8Array>;
  /** A large object (an archive) as it arrives; fails if the stream stalls. */
  stream(key: string, signal: AbortSignal): AsyncIterable<Uint8Array>;
  putBytes(key: string, data: Uint8Array, signal: AbortSignal): Promise<void>;
  /** Uploads a local file, then `opts.followedBy`; the object appears whole or not at all. */
  putFile(key: string, file: string, bytes: number, opts: PutOptions): Promise<void>;
  remove(key: string, signal: AbortSignal): Promise<void>;
  /** Unfinished uploads under `prefix`, or "unsupported" when the server cannot list them. */
  pendingUploads(prefix: string, signal: AbortSignal): Promise<PendingUpload[] | "unsupported">;
  abortUpload(upload: PendingUpload, signal: AbortSignal): Promise<void>;
}

/** An offsite copy's operation failed; the message starts with the copy's name. */
export class OffsiteError extends OperationError {
  override name = "OffsiteError";
  constructor(
    readonly copy: string,
    readonly reason: string,
    /** Worth retrying: a server error, a timeout, a reset connection. */
    readonly transient = false,
  ) {
    super(`${copy}: ${reason}`);
  }
}
