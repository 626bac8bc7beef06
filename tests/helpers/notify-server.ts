/**
 * Stand-ins on loopback for the notification targets: one HTTP server (Bun.serve) that plays
 * ntfy, Healthchecks and a webhook and records every request, and a real SMTP server
 * (smtp-server, by nodemailer's authors) that records every message. Both run in the test
 * process: run the binary with `runAsync` so that they can answer meanwhile.
 */
import { SMTPServer } from "smtp-server";
import { type RunOptions, type RunResult, start } from "./cli.ts";

export interface Received {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** When the request arrived (ms since the epoch). */
  at: number;
}

/** How the server answers a path: a status code, or "stall" (never answers). */
export type Behaviour = number | "stall";

export interface StandIn {
  /** http://127.0.0.1:PORT */
  base: string;
  host: string;
  received: Received[];
  /** The requests to paths starting with `prefix`. */
  to(prefix: string): Received[];
  /** How paths starting with `prefix` are answered from now on (default 200). */
  answer(prefix: string, how: Behaviour): void;
  stop(): void;
}

export function startStandIn(): StandIn {
  const received: Received[] = [];
  const rules = new Map<string, Behaviour>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const at = Date.now();
      const body = await req.text();
      received.push({ method: req.method, path: url.pathname, headers: Object.fromEntries(req.headers), body, at });
      const rule = [...rules].find(([prefix]) => url.pathname.startsWith(prefix))?.[1] ?? 200;
      if (rule === "stall") return new Promise<Response>(() => {});
      return new Response("OK", { status: rule });
    },
  });
  const host = `127.0.0.1:${server.port}`;
  return {
    base: `http://${host}`,
    host,
    received,
    to: (prefix) => received.filter((r) => r.path.startsWith(prefix)),
    answer: (prefix, how) => void rules.set(prefix, how),
    stop: () => void server.stop(true),
  };
}

/** A loopback port nothing listens on (a server's, closed again). */
export function refusedPort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

export interface Mail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  /** The user the client logged in as (the server takes the right password only). */
  user: string;
}

export interface SmtpStandIn {
  port: number;
  mails: Mail[];
  /** Each login attempt: whether it was accepted. */
  logins: boolean[];
  stop(): Promise<void>;
}

/** A real SMTP server on 127.0.0.1 without TLS, taking the login `user`/`pass` only. */
export async function startSmtp(user: string, pass: string): Promise<SmtpStandIn> {
  const mails: Mail[] = [];
  const logins: boolean[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ["STARTTLS"],
    authOptional: false,
    allowInsecureAuth: true,
    onAuth(auth, _session, done) {
      const ok = auth.username === user && auth.password === pass;
      logins.push(ok);
      return ok ? done(null, { user: auth.username }) : done(new Error("bad login"));
    },
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const { subject, text } = parseMessage(Buffer.concat(chunks).toString("utf8"));
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          subject,
          text,
          user: String(session.user),
        });
        done();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  return { port, mails, logins, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Subject and plain text of a single-part message (nodemailer's 7bit or quoted-printable). */
function parseMessage(raw: string): { subject: string; text: string } {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const body = raw.slice(split + 4);
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, "im").exec(head)?.[1] ?? "";
  const qp = /quoted-printable/i.test(header("Content-Transfer-Encoding"));
  const text = qp
    ? body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(Number.parseInt(h, 16)))
    : body;
  return { subject: header("Subject"), text: text.replace(/\r\n/g, "\n") };
}

/** The binary run without blocking this process, so that the stand-ins here can answer it. */
export function runAsync(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return start(args, opts).done;
}
