/**
 * How each kind of target is told an event: ntfy's publish API, Healthchecks' ping API (start,
 * exit code, log), a JSON webhook, an email. Each is one request (or one message) per event.
 */
import type { EmailTarget, NotifyTarget } from "../config/notify-target.ts";
import { eventJson, type NotifyEvent } from "./event.ts";
import { type HttpRequest, secretOf, send } from "./http-send.ts";

const NTFY_PRIORITY = { failure: "high", stale: "high", success: "default", test: "default" } as const;
const NTFY_TAGS = { failure: "warning", stale: "hourglass", success: "white_check_mark", test: "test_tube" } as const;

export async function deliverTo(target: NotifyTarget, event: NotifyEvent, timeoutMs: number): Promise<void> {
  if (target.kind === "smtp") return (await import("./email.ts")).sendEmail(target, event, timeoutMs);
  const request = await requestFor(target, event);
  if (request) await send(request, timeoutMs);
}

async function requestFor(
  target: Exclude<NotifyTarget, EmailTarget>,
  event: NotifyEvent,
): Promise<HttpRequest | undefined> {
  const secret = await secretOf(target.passwordFile);
  if (target.kind === "ntfy") {
    const auth: Record<string, string> = secret === undefined ? {} : { Authorization: ntfyAuth(target.user, secret) };
    const headers = {
      Title: headerText(event.title),
      Priority: NTFY_PRIORITY[event.kind],
      Tags: NTFY_TAGS[event.kind],
      ...auth,
    };
    return { url: target.url, headers, body: event.text };
  }
  if (target.kind === "healthchecks") {
    // A stale service is Healthchecks' own business: it alarms when the pings stop.
    if (event.kind === "stale") return undefined;
    const path = event.kind === "test" ? "/log" : `/${event.exitCode ?? 0}`;
    return { url: `${target.url}${path}`, body: `${event.title}\n${event.text}` };
  }
  const auth: Record<string, string> = secret === undefined ? {} : { Authorization: `Bearer ${secret}` };
  return { url: target.url, headers: { "Content-Type": "application/json", ...auth }, body: eventJson(event) };
}

/** HTTP headers carry ASCII; anything else goes as RFC 2047 UTF-8, which ntfy decodes. */
function headerText(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text).toString("base64")}?=`;
}

function ntfyAuth(user: string | undefined, secret: string): string {
  return user === undefined ? `Bearer ${secret}` : `Basic ${Buffer.from(`${user}:${secret}`).toString("base64")}`;
}

/** Healthchecks' start signal, so that a run that never ends is seen as one. */
export async function startPing(target: NotifyTarget, timeoutMs: number): Promise<void> {
  if (target.kind === "healthchecks") await send({ url: `${target.url}/start` }, timeoutMs);
}
