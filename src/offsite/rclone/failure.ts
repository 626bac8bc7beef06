import { OffsiteError } from "../store.ts";
import type { RcCallError } from "./rc-error.ts";

const REFUSED_WRITE = "the remote refused the write: no permission (a read-only target?)";
const NO_SUCH_FILE = "no such file on the remote";

/** rclone's own words, matched to what a user can do about them. */
const KNOWN: [RegExp, string][] = [
  [/didn't find section in config file/, "the remote is not in rclone.conf: add it with `rclone config`"],
  [
    /\b401\b|Unauthorized|unable to authenticate|permission denied \(publickey|password|auth/i,
    "the remote refused the login: check its user, password or key in rclone.conf",
  ],
  [/connection refused/i, "cannot connect: connection refused"],
  [
    /no such host|name resolution|lookup .* on/i,
    "cannot resolve the remote's host (DNS): check rclone.conf and the network",
  ],
  [/i\/o timeout|deadline exceeded|timed? ?out/i, "no answer from the remote in time"],
  [/\b403\b|Forbidden|read[- ]only|permission denied|access denied|insufficient/i, REFUSED_WRITE],
  [/quota|no space|insufficient storage|\b507\b/i, "the remote is full (quota or disk)"],
  [/object not found|directory not found|not found/i, NO_SUCH_FILE],
];

/** A WebDAV server that takes no writes (rclone serve webdav --read-only) answers an upload so. */
const WEBDAV_NO_WRITE = /\b(404|405|409)\b|not found|method not allowed|conflict/i;

/**
 * rclone's failure as our message: which copy, what failed, and what to do; its words only when we
 * do not know them. `writing`: the call sent a file, so "not found" or "conflict" means the write
 * was refused.
 */
export function rcloneFailure(copy: string, what: string, e: RcCallError, writing = false): OffsiteError {
  // rclone's own end is no answer from the remote: its words say why.
  const text = e.status === 0 ? "" : e.error;
  const known = KNOWN.find(([pattern]) => pattern.test(text));
  let reason = known ? known[1] : `rclone failed: ${e.error || "no message"}`;
  if (writing && (!known || known[1] === NO_SUCH_FILE) && WEBDAV_NO_WRITE.test(text))
    reason = `${REFUSED_WRITE}; it answered "${e.error}"`;
  return new OffsiteError(copy, `${what}: ${reason}`);
}

/** Whether rclone failed only because the file or folder is not there. */
export const notFound = (e: RcCallError) => e.status === 404 || /\b(object|directory) not found\b/.test(e.error);
