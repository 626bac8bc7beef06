/**
 * backup.yaml's `notify:` list, in shoutrrr's URL forms for the schemes supported: ntfy://,
 * generic+https://, smtp://, and an https:// URL with `kind: healthchecks`.
 */
import path from "node:path";
import * as v from "valibot";
import { keyFile } from "./key-file.ts";
import { EVENTS, type EventKind, type NotifyTarget } from "./notify-target.ts";
import { configErrorAt, strictMapping } from "./schema-errors.ts";
import type { YamlSource } from "./yaml-source.ts";

export type { NotifyTarget } from "./notify-target.ts";

const SUPPORTED =
  "ntfy://HOST/TOPIC, generic+https://..., smtp://USER@HOST:PORT/?to=ADDRESS, or https://... with kind: healthchecks";

const entrySchema = strictMapping(
  {
    url: v.pipe(
      v.string("a URL"),
      v.check((s) => s.trim() !== "", "a URL"),
    ),
    kind: v.optional(v.picklist(["healthchecks"], '"healthchecks" (other kinds follow from the URL)')),
    on: v.optional(v.array(v.picklist(EVENTS, `one of ${EVENTS.join(", ")}`), "a list of events")),
    password_file: v.optional(
      v.pipe(
        v.string("a file path"),
        v.check((s) => s.trim() !== "", "a file path"),
      ),
    ),
  },
  "a mapping with url",
);

export const notifyList = v.nullish(
  v.pipe(
    v.custom<unknown[]>((x) => Array.isArray(x), "a list of notification targets"),
    v.array(entrySchema),
  ),
);

type Entry = v.InferOutput<typeof entrySchema>;

export function notifyTargets(
  src: YamlSource,
  entries: Entry[],
  env: Record<string, string | undefined>,
  home: string,
): NotifyTarget[] {
  return entries.map((e, i) => {
    const fail = (key: string, problem: string) => configErrorAt(src, ["notify", i, key], problem);
    let passwordFile: string | undefined;
    try {
      passwordFile = e.password_file && keyFile(e.password_file, env, home, path.dirname(src.file));
    } catch (error) {
      throw fail("password_file", (error as Error).message);
    }
    const target = parseTarget(e.url, e.kind, e.on ?? ["failure"], passwordFile);
    if (typeof target === "string") throw fail("url", target);
    return target;
  });
}

/** The target a URL names, or why it names none (the text never repeats the URL: it may hold a token). */
export function parseTarget(
  raw: string,
  kind: "healthchecks" | undefined,
  on: EventKind[],
  passwordFile?: string,
): NotifyTarget | string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `not a URL; expected ${SUPPORTED}`;
  }
  if (url.password) return "a password in the URL would be shown with it: put it in password_file";
  const scheme = url.protocol.slice(0, -1);
  const base = { on, passwordFile };
  if (kind === "healthchecks") {
    if (scheme !== "https" && scheme !== "http") return "kind: healthchecks needs an http:// or https:// URL";
    return { ...base, kind, label: `healthchecks ${url.host}`, url: raw.replace(/\/+$/, "") };
  }
  if (scheme === "ntfy") {
    const topic = url.pathname.replace(/^\/+|\/+$/g, "");
    if (!url.host || !/^[\w-]{1,64}$/.test(topic))
      return "expected ntfy://HOST/TOPIC (a topic of letters, digits, - and _)";
    const http = url.searchParams.get("scheme") === "http" ? "http" : "https";
    const user = url.username ? decodeURIComponent(url.username) : undefined;
    return { ...base, kind: "ntfy", label: `ntfy ${url.host}`, url: `${http}://${url.host}/${topic}`, user };
  }
  if (scheme === "generic+https" || scheme === "generic+http") {
    const target = `${scheme.slice("generic+".length)}://${url.host}${url.pathname}${url.search}`;
    return { ...base, kind: "generic", label: `webhook ${url.host}`, url: target };
  }
  if (scheme === "smtp") return emailTarget(url, base);
  if (scheme === "https" || scheme === "http")
    return "an http(s) URL needs kind: healthchecks, or generic+https:// for a webhook";
  return `unsupported scheme "${scheme}"; expected ${SUPPORTED}`;
}

const ENCRYPTION = { auto: "auto", implicittls: "implicit", explicittls: "starttls", none: "none" } as const;

function emailTarget(url: URL, base: { on: EventKind[]; passwordFile?: string }): NotifyTarget | string {
  const to = (url.searchParams.get("to") ?? "").split(",").filter((a) => a.trim() !== "");
  if (!url.hostname || to.length === 0) return "expected smtp://[USER@]HOST[:PORT]/?to=ADDRESS[,ADDRESS]";
  const bad = to.find((a) => !/^[^@\s]+@[^@\s]+$/.test(a));
  if (bad) return `"${bad}" is not an email address`;
  const mode = (url.searchParams.get("encryption") ?? "auto").toLowerCase();
  if (!(mode in ENCRYPTION)) return `encryption: expected one of ${Object.keys(ENCRYPTION).join(", ")}`;
  const user = url.username ? decodeURIComponent(url.username) : undefined;
  if (user && !base.passwordFile) return "a USER@ in the URL needs password_file";
  return {
    ...base,
    kind: "smtp",
    label: `email via ${url.hostname}`,
    host: url.hostname,
    port: url.port ? Number(url.port) : 587,
    user,
    from: url.searchParams.get("from") ?? `tools-backup@${url.hostname}`,
    to,
    encryption: ENCRYPTION[mode as keyof typeof ENCRYPTION],
  };
}
