import { posix } from "node:path";
import type { TarHeader } from "./tar-header.ts";

/**
 * Every entry of an archive must sit inside the folder of one of its volumes: no absolute
 * paths, no `..`, nothing at the top level but the volume folders themselves.
 * Returns the volume an entry belongs to, or throws with the reason.
 */
export function volumeOfEntry(entry: TarHeader, volumes: ReadonlySet<string>): string {
  const name = entry.name.replace(/\/+$/, "");
  if (name.startsWith("/")) throw new Error(`entry "${entry.name}" has an absolute path`);
  const parts = name.split("/");
  if (parts.some((p) => p === ".." || p === "." || p === ""))
    throw new Error(`entry "${entry.name}" has a "..", "." or empty path segment`);
  const volume = parts[0]!;
  if (!volumes.has(volume))
    throw new Error(`entry "${entry.name}" is outside the archive's volumes (${[...volumes].join(", ")})`);
  if (parts.length === 1 && entry.type !== "directory")
    throw new Error(`entry "${entry.name}" replaces a volume folder with a ${entry.type}`);
  return volume;
}

/** A link target, resolved from where the link sits, must stay inside the same volume. */
export function linkStaysInside(entry: TarHeader, volume: string): boolean {
  const target = entry.linkname;
  if (target.startsWith("/")) return false;
  const base = entry.type === "hardlink" ? "" : posix.dirname(entry.name);
  const resolved = posix.normalize(posix.join(base, target));
  return resolved === volume || resolved.startsWith(`${volume}/`);
}
