import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../../util/errors.ts";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface CredentialSource {
  copy: string;
  /** A KEY=VALUE file (as `.env` files and systemd's EnvironmentFile are written). */
  file?: string;
  profile?: string;
}

/**
 * The keys of one copy, in AWS's order of precedence after our own file: the copy's credentials
 * file, the AWS environment variables, then ~/.aws/credentials. Never logged, never returned in a message.
 */
export async function resolveCredentials(
  source: CredentialSource,
  env: Record<string, string | undefined>,
  home: string,
): Promise<Credentials> {
  if (source.file) {
    const found = fromVariables(parseEnvFile(await readFile(source.file, "utf8")));
    if (found) return found;
    throw new UsageError(`${source.copy}: ${source.file} has no AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY lines`);
  }
  const fromEnv = fromVariables(env);
  if (fromEnv) return fromEnv;
  const profile = source.profile ?? env.AWS_PROFILE ?? "default";
  const shared = env.AWS_SHARED_CREDENTIALS_FILE || join(home, ".aws", "credentials");
  const text = await readFile(shared, "utf8").catch(() => undefined);
  const section = text === undefined ? undefined : iniSection(text, profile);
  const fromShared = section && fromVariables(upperKeys(section));
  if (fromShared) return fromShared;
  throw new UsageError(
    `${source.copy}: no S3 keys: give the copy a credentials file in backup.yaml, set AWS_ACCESS_KEY_ID and ` +
      `AWS_SECRET_ACCESS_KEY, or add a [${profile}] section to ${shared}`,
  );
}

function fromVariables(vars: Record<string, string | undefined>): Credentials | undefined {
  const accessKeyId = vars.AWS_ACCESS_KEY_ID;
  const secretAccessKey = vars.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, sessionToken: vars.AWS_SESSION_TOKEN || undefined };
}

/** `KEY=value`, `export KEY="value"`, comments and blank lines. */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    vars[m[1]!] = unquote(m[2]!);
  }
  return vars;
}

function unquote(value: string): string {
  const q = value[0];
  return (q === '"' || q === "'") && value.endsWith(q) && value.length >= 2 ? value.slice(1, -1) : value;
}

/** The `key = value` pairs of one `[name]` section of an INI file. */
function iniSection(text: string, name: string): Record<string, string> | undefined {
  let current: string | undefined;
  let found: Record<string, string> | undefined;
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[\s*(?:profile\s+)?([^\]]+?)\s*\]\s*$/.exec(line);
    if (header) {
      current = header[1];
      if (current === name) found ??= {};
      continue;
    }
    const pair = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (pair && current === name && found) found[pair[1]!] = pair[2]!;
  }
  return found;
}

const upperKeys = (o: Record<string, string>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toUpperCase(), v]));
