import { OffsiteError } from "../store.ts";
import type { RcloneResult } from "./run.ts";

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

/**
 * The words of rclone's log: the messages of its JSON lines above info (not their times and stats,
 * whose digits would match a status code) and its plain lines.
 */
function errorText(stderr: string): string {
  const words = (line: string) => {
    if (!line.startsWith("{")) return line;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: unknown };
      return entry.level === "info" || entry.level === "debug" ? "" : String(entry.msg ?? "");
    } catch {
      return "";
    }
  };
  return stderr.split("\n").map(words).join("\n");
}

/** The last ERROR line's message without rclone's date and log prefix, for failures we do not know. */
function lastError(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("{"));
  const last = lines.at(-1) ?? "";
  return last.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\s+/, "").replace(/^(ERROR|NOTICE|Failed to \w+)[^:]*:\s*/, "");
}

/** A WebDAV server that takes no writes (rclone serve webdav --read-only) answers an upload so. */
const WEBDAV_NO_WRITE = /\b(404|405|409)\b|not found|method not allowed|conflict/i;

/**
 * rclone's failure as our message: which copy, what failed, and what to do; never its raw log.
 * `writing`: the command sent a file, so "not found" or "conflict" means the write was refused.
 */
export function rcloneFailure(copy: string, what: string, r: RcloneResult, writing = false): OffsiteError {
  const text = errorText(r.stderr);
  const known = KNOWN.find(([pattern]) => pattern.test(text));
  let reason = known ? known[1] : `rclone failed (exit ${r.code}): ${lastError(r.stderr) || "no message"}`;
  if (writing && (!known || known[1] === NO_SUCH_FILE) && WEBDAV_NO_WRITE.test(text))
    reason = `${REFUSED_WRITE}; it answered "${lastError(r.stderr)}"`;
  // rclone's exit 5 is "temporary error": worth the next run's retry, as everything is.
  return new OffsiteError(copy, `${what}: ${reason}`, r.code === 5);
}

/** Whether rclone failed only because the file or folder is not there. */
export const notFound = (r: RcloneResult) => r.code === 3 || r.code === 4 || /not found/.test(r.stderr);
