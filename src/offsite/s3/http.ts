import { AwsV4Signer } from "aws4fetch";
import { sleep } from "../../util/sleep.ts";
import { OffsiteError } from "../store.ts";
import type { Credentials } from "./credentials.ts";
import { answerFailure } from "./failure.ts";
import { Watch } from "./watch.ts";

export interface S3Target {
  copy: string;
  bucket: string;
  /** Absent: AWS in `region`. */
  endpoint?: string;
  region?: string;
  pathStyle: boolean;
  /** Seconds a request may wait for an answer (and a download between two pieces). */
  timeoutSeconds: number;
}

export interface S3Request {
  method: "GET" | "PUT" | "POST" | "DELETE" | "HEAD";
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** sha256 (hex) of the body, signed so that the server rejects a body changed on the way. */
  bodySha256?: string;
  signal: AbortSignal;
  /** For messages: "upload of svc/x.tar.zst". */
  what: string;
}

const RETRIES = 4;

/** Signed requests to one bucket, retried with backoff while the failure is a transient one. */
export class S3Http {
  readonly host: string;
  private readonly base: string;
  private readonly pathStyle: boolean;
  private down: OffsiteError | undefined;

  constructor(
    private readonly target: S3Target,
    private readonly credentials: Credentials,
  ) {
    const region = target.region ?? "us-east-1";
    const endpoint = new URL(target.endpoint ?? `https://s3.${region}.amazonaws.com`);
    // Virtual-hosted names with a dot break TLS host matching: such buckets go path-style.
    const pathStyle = target.pathStyle || target.bucket.includes(".");
    this.pathStyle = pathStyle;
    this.base = pathStyle
      ? `${endpoint.protocol}//${endpoint.host}/${target.bucket}`
      : `${endpoint.protocol}//${target.bucket}.${endpoint.host}`;
    this.host = endpoint.host;
  }

  url(key = "", query: Record<string, string> = {}): string {
    // A bucket's own requests are "/bucket" path-style (as AWS's SDKs send them), "/" virtual-hosted.
    const path = key !== "" ? `/${key.split("/").map(encodeURIComponent).join("/")}` : this.pathStyle ? "" : "/";
    const search = new URLSearchParams(query).toString().replace(/\+/g, "%20");
    return `${this.base}${path}${search ? `?${search}` : ""}`;
  }

  /** The body of a 2xx answer; anything else throws an OffsiteError after its retries. */
  async send(req: S3Request): Promise<Answer> {
    return this.retried(req, async () => {
      const { res, watch } = await this.once(req);
      try {
        return { headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
      } catch (e) {
        throw watch.failure(e);
      } finally {
        watch.stop();
      }
    });
  }

  /** A 2xx answer's body as it arrives, failing when no piece comes within the timeout. */
  async open(req: S3Request): Promise<{ headers: Headers; body: AsyncIterable<Uint8Array> }> {
    const { res, watch } = await this.retried(req, () => this.once(req));
    const stream = res.body;
    if (!stream) {
      watch.stop();
      return { headers: res.headers, body: (async function* () {})() };
    }
    async function* pieces() {
      try {
        for await (const piece of stream as unknown as AsyncIterable<Uint8Array>) {
          watch.rearm();
          yield piece;
        }
      } catch (e) {
        throw watch.failure(e);
      } finally {
        watch.stop();
      }
    }
    return { headers: res.headers, body: pieces() };
  }

  /**
   * A server that is still unreachable or failing after every retry is taken to be down for the
   * rest of the run: later requests fail at once with the same reason instead of waiting again.
   */
  private async retried<T>(req: S3Request, attempt: () => Promise<T>): Promise<T> {
    if (this.down) throw this.down;
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (e) {
        if (req.signal.aborted) throw req.signal.reason;
        if (!(e instanceof OffsiteError) || !e.transient) throw e;
        if (n >= RETRIES) {
          this.down = e;
          throw e;
        }
        await sleep(250 * 2 ** n + Math.random() * 100, req.signal);
      }
    }
  }

  private async once(req: S3Request): Promise<{ res: Response; watch: Watch }> {
    const { copy, region = "us-east-1" } = this.target;
    const headers: Record<string, string> = { ...req.headers };
    if (req.bodySha256) headers["x-amz-content-sha256"] = req.bodySha256;
    const signed = await new AwsV4Signer({
      method: req.method,
      url: this.url(req.key, req.query),
      headers,
      body: req.body,
      ...this.credentials,
      service: "s3",
      region,
    }).sign();
    const watch = new Watch(copy, this.host, this.target.timeoutSeconds, req.signal);
    let res: Response;
    try {
      res = await fetch(signed.url, {
        method: signed.method,
        headers: signed.headers,
        body: req.body,
        signal: watch.signal,
      });
    } catch (e) {
      watch.stop();
      throw watch.failure(e);
    }
    if (res.ok) return { res, watch };
    const body = await res.text().catch(() => "");
    watch.stop();
    throw answerFailure(copy, res.status, body, req.what);
  }
}

export interface Answer {
  headers: Headers;
  bytes: Uint8Array;
}
