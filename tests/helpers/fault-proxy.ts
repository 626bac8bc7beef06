/**
 * A recording, fault-injecting HTTP proxy on loopback in front of the test S3 server.
 * It keeps the client's Host header, so SigV4 signatures made for the proxy's address stay valid.
 * Faults are rules: a matcher over the request and an action, for the next N matches or always.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface RecordedRequest {
  method: string;
  /** The path as sent, still percent-encoded, without the query. */
  path: string;
  /** The raw query string without "?", "" when absent. */
  query: string;
  params: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** The status the client got; 0 while pending or when it got none (reset, stall). */
  status: number;
  /** The injected fault, when a rule matched. */
  fault?: FaultAction["kind"];
}

/** Every given field must hold; `query: { uploadId: true }` asks for the parameter's presence. */
export interface MatchSpec {
  method?: string;
  path?: string | RegExp;
  query?: Record<string, string | true>;
}
export type Matcher = MatchSpec | ((req: RecordedRequest) => boolean);

export type FaultAction =
  /** An S3-style XML error, e.g. { kind: "error", status: 500, code: "InternalError" }. */
  | { kind: "error"; status: number; code: string; message?: string }
  /** 501 NotImplemented, as servers answer calls they lack. */
  | { kind: "not-implemented" }
  /** 200 with a body that is not XML. */
  | { kind: "garbage" }
  /** Forwards this many body bytes (default: half the Content-Length) upstream, then resets. */
  | { kind: "reset-mid-body"; afterBytes?: number }
  /** Forwards the whole request, lets the server act on it, then resets instead of answering. */
  | { kind: "reset-before-response" }
  /** Reads the request and never answers; the socket stays open until the client gives up. */
  | { kind: "stall" };

export interface FaultRule {
  match: Matcher;
  action: FaultAction;
  /** How many matching requests get the fault; absent: all of them. */
  times?: number;
  /** Requests this rule has hit so far. */
  hits: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Every request in arrival order. */
  readonly requests: RecordedRequest[];
  fail(rule: { match: Matcher; action: FaultAction; times?: number }): FaultRule;
  /** Drops all rules and the request log. */
  clear(): void;
  stop(): Promise<void>;
}

export function matches(m: Matcher, r: RecordedRequest): boolean {
  if (typeof m === "function") return m(r);
  if (m.method && m.method.toUpperCase() !== r.method) return false;
  if (typeof m.path === "string" && m.path !== r.path) return false;
  if (m.path instanceof RegExp && !m.path.test(r.path)) return false;
  for (const [k, v] of Object.entries(m.query ?? {})) {
    if (!r.params.has(k) || (v !== true && r.params.get(k) !== v)) return false;
  }
  return true;
}

function xmlError(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

function answer(res: http.ServerResponse, rec: RecordedRequest, status: number, body: string, type: string) {
  rec.status = status;
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  let rules: FaultRule[] = [];
  const sockets = new Set<Socket>();

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, rec: RecordedRequest, action?: FaultAction) => {
    const up = http.request({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    });
    up.on("error", () => req.socket.destroy());
    up.on("response", (upRes) => {
      if (action?.kind === "reset-before-response") {
        upRes.resume();
        upRes.on("end", () => req.socket.destroy());
        return;
      }
      rec.status = upRes.statusCode ?? 0;
      res.writeHead(rec.status, upRes.headers);
      upRes.pipe(res);
    });
    if (action?.kind !== "reset-mid-body") {
      req.pipe(up);
      return;
    }
    const limit = action.afterBytes ?? Math.floor(Number(req.headers["content-length"] ?? 0) / 2);
    let sent = 0;
    const reset = () => {
      req.socket.destroy();
      up.destroy();
    };
    if (limit <= 0) return reset();
    req.on("data", (chunk: Buffer) => {
      if (sent >= limit) return;
      const piece = chunk.subarray(0, limit - sent);
      sent += piece.length;
      up.write(piece);
      if (sent >= limit) reset();
    });
    // A body shorter than the limit still ends in a reset, never in an answer.
    req.on("end", reset);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const rec: RecordedRequest = {
      method: req.method ?? "GET",
      path: q < 0 ? raw : raw.slice(0, q),
      query: q < 0 ? "" : raw.slice(q + 1),
      params: url.searchParams,
      headers: req.headers,
      status: 0,
    };
    requests.push(rec);
    const rule = rules.find((r) => (r.times === undefined || r.hits < r.times) && matches(r.match, rec));
    if (!rule) return forward(req, res, rec);
    rule.hits++;
    rec.fault = rule.action.kind;
    const action = rule.action;
    if (action.kind === "reset-mid-body" || action.kind === "reset-before-response") {
      return forward(req, res, rec, action);
    }
    req.resume();
    if (action.kind === "stall") return;
    req.on("end", () => {
      if (action.kind === "error") {
        answer(res, rec, action.status, xmlError(action.code, action.message ?? action.code), "application/xml");
      } else if (action.kind === "not-implemented") {
        const msg = "A header you provided implies functionality that is not implemented";
        answer(res, rec, 501, xmlError("NotImplemented", msg), "application/xml");
      } else {
        answer(res, rec, 200, "this is not XML {garbage}", "text/plain");
      }
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    fail(r) {
      const rule = { ...r, hits: 0 };
      rules.push(rule);
      return rule;
    },
    clear() {
      rules = [];
      requests.length = 0;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
