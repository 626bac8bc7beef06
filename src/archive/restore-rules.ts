import { linkStaysInside } from "./entry-rules.ts";
import type { Manifest } from "./manifest.ts";
import type { TarHeader } from "./tar-header.ts";

type Counts = { devices: number; setuid: number; links_out: number };

/**
 * The checks a restore adds to verification. Nothing may be written through a symlink, hard
 * links must stay inside their volume, and device nodes, setuid/setgid files and symlinks
 * pointing out of the volume are allowed only as many as the service's own data had.
 */
export function restoreEntryCheck(manifest: Manifest): (entry: TarHeader, volume: string) => void {
  const allowed = new Map<string, Counts>(
    manifest.volumes.map((v) => [v.name, { devices: v.devices, setuid: v.setuid, links_out: v.links_out }]),
  );
  const seen = new Map<string, Counts>();
  const symlinks = new Set<string>();
  return (entry, volume) => {
    const name = entry.name.replace(/\/+$/, "");
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (symlinks.has(parent))
        throw new Error(`entry "${entry.name}" would be written through the symlink "${parent}"`);
    }
    const s = seen.get(volume) ?? { devices: 0, setuid: 0, links_out: 0 };
    seen.set(volume, s);
    const max = allowed.get(volume) ?? { devices: 0, setuid: 0, links_out: 0 };
    const over = (what: keyof Counts) => ++s[what] > max[what];
    if (entry.type === "symlink") {
      symlinks.add(name);
      if (!linkStaysInside(entry, volume) && over("links_out")) {
        throw new Error(
          `entry "${entry.name}" is a symlink to "${entry.linkname}", outside volume ${volume}, ` +
            "which the backed-up data did not have",
        );
      }
    }
    if (entry.type === "hardlink" && !linkStaysInside(entry, volume)) {
      throw new Error(`entry "${entry.name}" is a hard link to "${entry.linkname}", outside volume ${volume}`);
    }
    if ((entry.type === "char" || entry.type === "block") && over("devices")) {
      throw new Error(`entry "${entry.name}" is a device node, which the backed-up data did not have`);
    }
    if ((entry.mode & 0o6000) !== 0 && entry.type !== "directory" && over("setuid")) {
      throw new Error(`entry "${entry.name}" is setuid/setgid, which the backed-up data did not have`);
    }
  };
}
