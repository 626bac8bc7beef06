import path from "node:path";
import * as v from "valibot";
import type { RetentionPolicy } from "../retention/plan.ts";
import { keyFile } from "./key-file.ts";
import type { OffsiteCopy } from "./offsite-copy.ts";
import { isRcloneUrl, RCLONE_ONLY, rcloneCopy } from "./offsite-rclone.ts";
import { retentionPolicy, retentionSchema } from "./retention-config.ts";
import { configErrorAt, strictMapping } from "./schema-errors.ts";
import { positionOf, type YamlSource } from "./yaml-source.ts";

export type { OffsiteCopy, RcloneCopy, S3Copy } from "./offsite-copy.ts";

/** Copy names appear in `list`'s location column beside "local", and in --offsite. */
export const COPY_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const NAME_TEXT = "a name of lowercase letters, digits, '_' and '-' (at most 32)";

const BUCKET_TEXT = "a bucket name is 3 to 63 lowercase letters, digits, '.' and '-'";
const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/;

function wholeNumber(max: number) {
  const expected = `a whole number from 1 to ${max}`;
  return v.pipe(v.number(expected), v.integer(expected), v.minValue(1, expected), v.maxValue(max, expected));
}

const text = (expected: string) =>
  v.pipe(
    v.string(expected),
    v.check((s) => s.trim() !== "", expected),
  );

const ENTRY = {
  name: v.pipe(v.string(NAME_TEXT), v.regex(COPY_NAME, NAME_TEXT)),
  url: text("an s3://bucket/prefix or rclone:REMOTE:PATH address"),
  endpoint: v.optional(text("an http:// or https:// address")),
  region: v.optional(text("a region name")),
  path_style: v.optional(v.boolean("true or false"), false),
  credentials: v.optional(text("a file path")),
  profile: v.optional(text("a profile name of ~/.aws/credentials")),
  rclone_config: v.optional(text("the path of an rclone.conf")),
  retention_days: v.optional(wholeNumber(36500)),
  keep_last: v.optional(wholeNumber(10000)),
  retention: retentionSchema,
};

/** The keys an offsite entry may have (backup.yaml.example documents each). */
export const OFFSITE_KEYS = Object.keys(ENTRY);
/** The keys in the order a screen writes a new copy's. */
export const SCALAR_KEYS = OFFSITE_KEYS.filter((k): k is OffsiteKey => k !== "retention");

export const offsiteEntry = strictMapping(ENTRY, "a mapping with name and url");

export const offsiteList = v.nullish(
  v.pipe(
    v.custom<unknown[]>((x) => Array.isArray(x), "a list of offsite copies"),
    v.array(offsiteEntry),
  ),
);

export type Entry = v.InferOutput<typeof offsiteEntry>;

/** The keys a screen edits one value at a time; a copy's `retention:` mapping is edited by hand. */
export type OffsiteKey = Exclude<keyof typeof ENTRY, "retention">;
/** One copy as written in backup.yaml: absent keys are left out. */
export type OffsiteEntryInput = { name: string; url: string } & {
  [K in Exclude<OffsiteKey, "name" | "url">]?: v.InferInput<(typeof ENTRY)[K]>;
};

/** What the schema says of one key's value, for a screen asking it: "expected ...", or undefined when it fits. */
export function fieldProblem(key: OffsiteKey, value: unknown): string | undefined {
  const parsed = v.safeParse(ENTRY[key], value);
  return parsed.success ? undefined : `expected ${parsed.issues[0]!.message}`;
}

/** Why a copy cannot have this name beside the copies already called `taken`, or undefined. */
export function nameProblem(name: string, taken: readonly string[]): string | undefined {
  if (name === "local") return `"local" cannot be used: "local" names backup_dir`;
  if (taken.includes(name)) return `"${name}" cannot be used: another copy is already called "${name}"`;
  return undefined;
}

/** The bucket and key prefix (no slashes at either end) of an s3://BUCKET[/PREFIX] address, or undefined. */
export function parseS3Url(url: string): { bucket: string; prefix: string } | undefined {
  const m = S3_URL.exec(url);
  return m ? { bucket: m[1]!, prefix: (m[2] ?? "").replace(/^\/+|\/+$/g, "") } : undefined;
}

export const s3UrlProblem = (url: string) =>
  parseS3Url(url) ? undefined : `expected s3://BUCKET[/PREFIX] (${BUCKET_TEXT}) or rclone:REMOTE:PATH, found "${url}"`;

export const endpointProblem = (endpoint: string) =>
  /^https?:\/\/[^/\s]+\/?$/.test(endpoint) ? undefined : `expected http(s)://HOST[:PORT], found "${endpoint}"`;

/**
 * A copy's own retention: its calendar, its own retention_days / keep_last (then by age, the rest
 * from backup.yaml's top level), or backup.yaml's policy as it stands.
 */
function copyPolicy(src: YamlSource, i: number, e: Entry, defaults: RetentionPolicy): RetentionPolicy {
  const written = (["retention_days", "keep_last"] as const).filter((k) => e[k] !== undefined);
  const own = { retentionDays: e.retention_days ?? defaults.retentionDays, keepLast: e.keep_last ?? defaults.keepLast };
  return retentionPolicy(src, ["offsite", i, "retention"], e.retention, written.length > 0 ? own : defaults, written);
}

/**
 * The checks a schema cannot make: unique names, the address's form, and a credentials file
 * that exists and that nobody else can read (a readable key file is as good as a published one).
 */
export function offsiteCopies(
  src: YamlSource,
  entries: Entry[],
  defaults: RetentionPolicy,
  env: Record<string, string | undefined>,
  home: string,
): OffsiteCopy[] {
  const seen = new Set<string>();
  return entries.map((e, i) => {
    const at = (key: string) => ["offsite", i, key];
    const badName = nameProblem(e.name, [...seen]);
    if (badName) throw configErrorAt(src, at("name"), badName);
    seen.add(e.name);
    const base = {
      name: e.name,
      url: e.url,
      retentionDays: e.retention_days ?? defaults.retentionDays,
      keepLast: e.keep_last ?? defaults.keepLast,
      retention: copyPolicy(src, i, e, defaults),
      file: src.file,
      at: positionOf(src, ["offsite", i]),
    };
    if (isRcloneUrl(e.url)) return rcloneCopy(src, i, e, base, env, home);
    if (e.rclone_config !== undefined) throw configErrorAt(src, at("rclone_config"), RCLONE_ONLY);
    const where = parseS3Url(e.url);
    if (!where) throw configErrorAt(src, at("url"), s3UrlProblem(e.url)!);
    const badEndpoint = e.endpoint === undefined ? undefined : endpointProblem(e.endpoint);
    if (badEndpoint) throw configErrorAt(src, at("endpoint"), badEndpoint);
    let credentials: string | undefined;
    try {
      credentials = e.credentials === undefined ? undefined : keyFile(e.credentials, env, home, path.dirname(src.file));
    } catch (error) {
      throw configErrorAt(src, at("credentials"), error instanceof Error ? error.message : String(error));
    }
    return {
      ...base,
      kind: "s3",
      ...where,
      endpoint: e.endpoint?.replace(/\/$/, ""),
      region: e.region,
      pathStyle: e.path_style,
      credentials,
      profile: e.profile,
    };
  });
}
