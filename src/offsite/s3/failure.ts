import { OffsiteError } from "../store.ts";
import { textOf } from "./xml.ts";

/** What a user can do about each S3 error code, in their words. */
const BY_CODE: Record<string, string> = {
  InvalidAccessKeyId: "the access key id is not known to the server: check the keys",
  SignatureDoesNotMatch: "the server refused the keys' signature: check the secret access key",
  AccessDenied: "access denied: the keys may not use this bucket (read, write, list and delete are needed)",
  NoSuchBucket: "the bucket does not exist",
  RequestTimeTooSkewed: "this machine's clock differs too much from the server's: set the clock (NTP) and retry",
  InvalidBucketName: "the bucket's name is not valid",
  PermanentRedirect: "the bucket is in another region: set `region` (or `endpoint`) for this copy",
  AuthorizationHeaderMalformed: "the bucket is in another region: set `region` for this copy",
};

/** The failure an S3 error answer means, from its status and (when it is S3's XML) its code. */
export function answerFailure(copy: string, status: number, body: string, what: string): OffsiteError {
  const code = /<Error>/.test(body) ? textOf(body, "Code") : undefined;
  const known = code ? BY_CODE[code] : undefined;
  if (known) return new OffsiteError(copy, `${what}: ${known} (${code})`);
  if (status === 404 && code === "NoSuchKey") return new OffsiteError(copy, `${what}: no such object`);
  const transient =
    (status >= 500 && status !== 501) || status === 429 || code === "RequestTimeout" || code === "SlowDown";
  const named = code ? `${code}, HTTP ${status}` : `HTTP ${status}${body.trim() ? ", not an S3 answer" : ""}`;
  return new OffsiteError(copy, `${what}: the server answered ${named}`, transient);
}

/** A request that got no answer: refused, unknown host, reset, timed out. */
export function networkFailure(copy: string, host: string, error: unknown, timeoutSeconds: number): OffsiteError {
  const e = error as { name?: string; code?: string; message?: string };
  const text = `${e.code ?? ""} ${e.message ?? ""}`;
  if (e.name === "TimeoutError")
    return new OffsiteError(copy, `no answer from ${host} within ${timeoutSeconds} s`, true);
  if (/ENOTFOUND|EAI_AGAIN|dns error|failed to lookup|Name or service not known/i.test(text))
    return new OffsiteError(copy, `cannot resolve ${host} (DNS): check the endpoint and the network`, true);
  if (/ECONNREFUSED|Connection refused|ConnectionRefused/i.test(text))
    return new OffsiteError(copy, `cannot connect to ${host}: connection refused`, true);
  if (/ECONNRESET|ConnectionClosed|reset|closed unexpectedly|broken pipe|EPIPE/i.test(text))
    return new OffsiteError(copy, `the connection to ${host} was cut`, true);
  if (/certificate|TLS|SSL/i.test(text)) return new OffsiteError(copy, `TLS with ${host} failed: ${e.message}`);
  return new OffsiteError(copy, `cannot reach ${host}: ${e.message ?? String(error)}`, true);
}

/** A 2xx answer that is not what S3 sends: a proxy's page, a server that is not S3. */
export function garbage(copy: string, what: string): OffsiteError {
  return new OffsiteError(copy, `${what}: the server's answer is not S3's (is the endpoint an S3 server?)`);
}
