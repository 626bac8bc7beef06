/**
 * Pure selection of leftover temp files (from crashed or killed runs) that this host may delete.
 * Only our own names and our own host: on a shared Drive folder another machine may be mid-write.
 */
import { MANIFEST_SUFFIX, parseArchiveName, parseId, safeHost, TEMP_PREFIX } from "../archive/naming.ts";

const DAY_MS = 86_400_000;
/** Writers may append `.<pid>` or a random token after the final name. */
const EXTRA = /\.[A-Za-z0-9]+$/;

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

/** Hosts of every way `rest` can be read as `<id><ext>[.<extra>]`; empty when it is not ours. */
function hostsOf(rest: string): string[] {
  const candidates = [rest];
  const extra = EXTRA.exec(rest);
  if (extra) candidates.push(rest.slice(0, extra.index));
  const hosts: string[] = [];
  for (const candidate of candidates) {
    const parsed = parseArchiveName(candidate)?.id ?? parseManifestName(candidate);
    if (parsed) hosts.push(parsed.host);
  }
  return hosts;
}

function parseManifestName(name: string) {
  return name.endsWith(MANIFEST_SUFFIX) ? parseId(name.slice(0, -MANIFEST_SUFFIX.length)) : undefined;
}

export function staleTempFiles(names: { path: string; mtimeMs: number }[], host: string, now: Date): string[] {
  const mine = safeHost(host);
  const cutoff = now.getTime() - DAY_MS;
  return names
    .filter(({ path, mtimeMs }) => {
      if (!(mtimeMs < cutoff)) return false; // a day old at least: younger ones may still be written
      const name = baseName(path);
      if (!name.startsWith(TEMP_PREFIX)) return false;
      const hosts = hostsOf(name.slice(TEMP_PREFIX.length));
      // Ambiguous names are only ours if every reading says so.
      return hosts.length > 0 && hosts.every((h) => h === mine);
    })
    .map(({ path }) => path);
}
