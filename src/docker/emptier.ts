import { dockerError, dockerOk, exitOf, spawnDocker } from "./cli.ts";
import { MOUNT_ROOT } from "./helper-container.ts";
import { HELPER_LABEL } from "./labels.ts";

/**
 * Emptying a volume needs a shell and rm inside the engine (docker cp can add files, never
 * remove them). Volume paths are passed as arguments to a fixed script, never spliced into it.
 */
export const RUNNER_IMAGE = process.env.TOOLS_BACKUP_RUNNER_IMAGE ?? "busybox:stable";

function runArgs(volumes: string[], readOnly: boolean, script: string): string[] {
  const mounts = volumes.flatMap((v) => ["-v", `${v}:${MOUNT_ROOT}/${v}${readOnly ? ":ro" : ""}`]);
  return [
    "--rm",
    "--log-driver",
    "none",
    "--network",
    "none",
    "--label",
    `${HELPER_LABEL}=runner`,
    ...mounts,
    RUNNER_IMAGE,
    "sh",
    "-c",
    script,
    "sh",
    ...volumes.map((v) => `${MOUNT_ROOT}/${v}`),
  ];
}

async function runInVolumes(volumes: string[], script: string, what: string, readOnly = false): Promise<string> {
  return dockerOk(["run", ...runArgs(volumes, readOnly, script)], what);
}

/** Does nothing unless the first line on stdin is "go"; says when the volumes are empty. */
const EMPTY_ON_GO = `read go && [ "$go" = go ] || exit 3
for d in "$@"; do find "$d" -mindepth 1 -maxdepth 1 -exec rm -rf {} + || exit 1; done
echo emptied`;
const EMPTIED = "emptied\n";

/** One line per volume: KiB used and the newest modification time (epoch seconds, empty if none). */
const MEASURE =
  'for d in "$@"; do echo "$(du -sk "$d" | cut -f1) $(find "$d" -exec stat -c %Y {} + | sort -n | tail -1)"; done';
const MEASURED = "measured\n";

export interface Emptier {
  /** What the volumes held when it was armed, when asked for (`measure`). */
  usage?: Promise<VolumeUsage[]>;
  /** Removes everything inside each volume, keeping the volumes (other containers reference them). */
  empty(): Promise<void>;
  /** Ends the container, with nothing touched if `empty` was never called, and waits for it. */
  close(): Promise<void>;
}

/**
 * An emptying armed ahead of time: starting a container is slow, and all of it would be downtime
 * after the stop; armed before, `empty` only has the `rm` left to do. The container
 * waits for "go" on its stdin; stdin closed without it (a failed stop, Ctrl-C, our own death)
 * ends it untouched. It is removed once it exits (--rm). With `measure` it first measures the
 * volumes for a restore's summary, which then costs no container run of its own.
 */
export function armEmptying(volumes: string[], opts: { measure?: boolean } = {}): Emptier {
  const script = opts.measure ? `${MEASURE}\necho measured\n${EMPTY_ON_GO}` : EMPTY_ON_GO;
  const child = spawnDocker(["run", "-i", ...runArgs(volumes, false, script)], ["pipe", "pipe", "pipe"]);
  let out = "";
  const watchers: (() => void)[] = [];
  child.stdout!.on("data", (b: Buffer) => {
    out += b.toString();
    for (const w of watchers) w();
  });
  const stderr: Buffer[] = [];
  child.stderr!.on("data", (b: Buffer) => stderr.push(b));
  child.stdin!.on("error", () => undefined); // a run that failed to start has closed it: its exit says why
  const exited = exitOf(child);
  exited.catch(() => undefined); // awaited by empty or close
  /** The output up to `marker`, once it is there; the container's end without it is an error. */
  const upTo = (marker: string, what: string, until: string) => {
    const p = new Promise<string>((resolve, reject) => {
      const found = () => {
        const at = out.indexOf(marker);
        if (at >= 0) resolve(out.slice(0, at));
        return at >= 0;
      };
      watchers.push(found);
      exited.then((code) => {
        if (found()) return;
        // A container stopped from outside says nothing on stderr.
        reject(
          dockerError(
            what,
            Buffer.concat(stderr).toString() || `its container ended (exit code ${code}) before ${until}`,
          ),
        );
      }, reject);
    });
    p.catch(() => undefined); // a run closed unused fails it unread
    return p;
  };
  const emptied = upTo(EMPTIED, "emptying volumes", "the volumes were empty");
  const usage = opts.measure
    ? upTo(MEASURED, "measuring volumes", "they were measured").then((o) => parseUsage(o, volumes))
    : undefined;
  usage?.catch(() => undefined); // awaited by the restore's plan
  return {
    usage,
    async empty() {
      child.stdin!.end("go\n");
      await emptied;
    },
    async close() {
      child.stdin!.end();
      await exited.catch(() => undefined);
    },
  };
}

export interface VolumeUsage {
  name: string;
  kib: number;
  newestMtime: Date | null;
}

/** Size and newest modification time of each volume: what a restore is about to overwrite. */
export async function volumeUsage(volumes: string[]): Promise<VolumeUsage[]> {
  return parseUsage(await runInVolumes(volumes, MEASURE, "measuring volumes", true), volumes);
}

function parseUsage(out: string, volumes: string[]): VolumeUsage[] {
  return out
    .trim()
    .split("\n")
    .map((line, i) => {
      const [kib, mtime] = line.split(" ");
      return { name: volumes[i]!, kib: Number(kib) || 0, newestMtime: mtime ? new Date(Number(mtime) * 1000) : null };
    });
}
