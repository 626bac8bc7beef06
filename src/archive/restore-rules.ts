import type { Manifest } from "./manifest.ts";
import type { TarHeader } from "./tar-header.ts";
import { linkStaysInside } from "./entry-rules.ts";

/**
 * The checks a restore adds to verification: links must stay inside their volume, and device
 * nodes or setuid/setgid files are allowed only as many as the service's own data had.
 */
export function restoreEntryCheck(manifest: Manifest): (entry: TarHeader, volume: string) => void {
  const allowed = new Map(manifest.volumes.map((v) => [v.name, { devices: v.devices, setuid: v.setuid }]));
  const seen = new Map<string, { devices: number; setuid: number }>();
  return (entry, volume) => {
    if ((entry.type === "symlink" || entry.type === "hardlink") && !linkStaysInside(entry, volume)) {
      throw new Error(`entry "${entry.name}" is a ${entry.type} to "${entry.linkname}", outside volume ${volume}`);
    }
    const s = seen.get(volume) ?? { devices: 0, setuid: 0 };
    seen.set(volume, s);
    const max = allowed.get(volume) ?? { devices: 0, setuid: 0 };
    if ((entry.type === "char" || entry.type === "block") && ++s.devices > max.devices) {
      throw new Error(`entry "${entry.name}" is a device node, which the backed-up data did not have`);
    }
    if ((entry.mode & 0o6000) !== 0 && entry.type !== "directory" && ++s.setuid > max.setuid) {
      throw new Error(`entry "${entry.name}" is setuid/setgid, which the backed-up data did not have`);
    }
  };
}
