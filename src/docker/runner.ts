import { dockerOk } from "./run.ts";
import { HELPER_LABEL, MOUNT_ROOT } from "./helper.ts";

/**
 * Emptying a volume needs a shell and rm inside the engine (docker cp can add files, never
 * remove them). Volume paths are passed as arguments to a fixed script, never spliced into it.
 */
export const RUNNER_IMAGE = process.env.TOOLS_BACKUP_RUNNER_IMAGE ?? "busybox:stable";

export async function runInVolumes(volumes: string[], script: string, what: string, readOnly = false): Promise<string> {
  const mounts = volumes.flatMap((v) => ["-v", `${v}:${MOUNT_ROOT}/${v}${readOnly ? ":ro" : ""}`]);
  return dockerOk(
    ["run", "--rm", "--log-driver", "none", "--network", "none", "--label", `${HELPER_LABEL}=runner`, ...mounts, RUNNER_IMAGE,
      "sh", "-c", script, "sh", ...volumes.map((v) => `${MOUNT_ROOT}/${v}`)],
    what,
  );
}

/** Removes everything inside each volume, keeping the volume (other containers reference it). */
export async function emptyVolumes(volumes: string[]): Promise<void> {
  await runInVolumes(volumes, 'for d in "$@"; do find "$d" -mindepth 1 -maxdepth 1 -exec rm -rf {} + || exit 1; done', "emptying volumes");
}

export interface VolumeUsage {
  name: string;
  kib: number;
  newestMtime: Date | null;
}

/** Size and newest modification time of each volume: what a restore is about to overwrite. */
export async function volumeUsage(volumes: string[]): Promise<VolumeUsage[]> {
  const out = await runInVolumes(
    volumes,
    'for d in "$@"; do echo "$(du -sk "$d" | cut -f1) $(find "$d" -exec stat -c %Y {} + | sort -n | tail -1)"; done',
    "measuring volumes",
    true,
  );
  return out.trim().split("\n").map((line, i) => {
    const [kib, mtime] = line.split(" ");
    return { name: volumes[i]!, kib: Number(kib) || 0, newestMtime: mtime ? new Date(Number(mtime) * 1000) : null };
  });
}
