/**
 * Command line and the plan it implies: which shapes, which sections, how many repetitions.
 *   --quick          shape a at 64 MiB, one repetition, no scaling, no 4 GiB (CI; under a minute)
 *   --reps N         repetitions per measurement (default 3), median reported
 *   --only X[,Y]     a | b | c (backup + restore of that shape), restore, startup, scaling, offsite, load,
 *                    encryption (shape a's backup, plain and encrypted, side by side),
 *                    rclone (offsite's upload to an rclone remote against rclone copyto, alone)
 *                    (load: 200,000 files in 5 volumes, 10,000 backups; only when asked for)
 *                    (offsite: upload to a loopback S3 server against rclone; 64 MiB in --quick)
 *   --bin PATH       benchmark this binary instead of building one from src/
 */
import { GiB, MiB, type ShapeSpec } from "./generate.ts";

export interface Options {
  quick: boolean;
  reps: number;
  only: Set<string>;
  bin?: string;
}

const ONLY = ["a", "b", "c", "restore", "startup", "scaling", "offsite", "load", "encryption", "rclone"];

export const USAGE = `usage: npm run bench -- [--quick] [--reps N] [--only ${ONLY.join("|")}[,...]] [--bin PATH]`;

export function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, reps: 3, only: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? fail(`${flag} needs a value`);
    if (flag === "--quick") o.quick = true;
    else if (flag === "--reps") {
      o.reps = Number(value());
      if (!Number.isInteger(o.reps) || o.reps < 1) fail("--reps needs an integer >= 1");
    } else if (flag === "--only") {
      for (const v of value().split(",")) {
        if (!ONLY.includes(v)) fail(`--only: unknown "${v}" (one of ${ONLY.join(", ")})`);
        o.only.add(v);
      }
    } else if (flag === "--bin") o.bin = value();
    else if (flag === "--help" || flag === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown option ${flag}`);
  }
  // --quick means one repetition unless --reps says otherwise.
  if (o.quick && !argv.some((a) => a.startsWith("--reps"))) o.reps = 1;
  return o;
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

const mixed = (key: string, bytes: number, files: number): ShapeSpec => ({
  key,
  kind: "mixed",
  bytes,
  files,
  label: `${bytes / (bytes >= GiB ? GiB : MiB)} ${bytes >= GiB ? "GiB" : "MiB"} mixed (${files} files, half incompressible, half text)`,
});
const random = (key: string, bytes: number, files: number): ShapeSpec => ({
  key,
  kind: "random",
  bytes,
  files,
  label: `${bytes / (bytes >= GiB ? GiB : MiB)} ${bytes >= GiB ? "GiB" : "MiB"} incompressible (${files} files)`,
});
const small = (key: string, files: number): ShapeSpec => ({
  key,
  kind: "small",
  bytes: 0,
  files,
  label: `${files.toLocaleString("en-US")} small files of 1-8 KiB in nested folders`,
});

export const SHAPES: Record<string, ShapeSpec> = {
  a: mixed("a", GiB, 256),
  b: small("b", 100_000),
  c: mixed("c", 4 * GiB, 1024),
};
const QUICK: Record<string, ShapeSpec> = { a: mixed("a", 64 * MiB, 16), b: small("b", 2_000) };

/**
 * Offsite: the archive as large as the volume. `speed` compares our upload with rclone's and the
 * downtime with and without a copy; `memory` is one backup with a copy, for its peak memory.
 */
const OFFSITE = { speed: random("u", GiB, 16), memory: random("u4", 4 * GiB, 64) };
const QUICK_OFFSITE = random("u", 64 * MiB, 4);

export interface OffsiteJob {
  spec: ShapeSpec;
  /** `remote`: only the upload to an rclone remote against `rclone copyto`. */
  what: "speed" | "memory" | "remote";
}

/** Scaling points; a, b and c are points too and are reused when they ran. */
export const SCALING = {
  size: [mixed("a-256m", 256 * MiB, 64), SHAPES.a!, SHAPES.c!],
  count: [small("b-1k", 1_000), small("b-10k", 10_000), SHAPES.b!],
};

export interface ShapeJob {
  spec: ShapeSpec;
  backup: boolean;
  restore: boolean;
  /** Only our backup, plain and encrypted: the encryption's cost alone. */
  encryptionOnly?: boolean;
}

export interface Plan {
  jobs: ShapeJob[];
  scaling: boolean;
  startup: boolean;
  startupRuns: number;
  offsite: OffsiteJob[];
  load: boolean;
}

export function planOf(o: Options): Plan {
  const letters = ["a", "b", "c"].filter((k) => o.only.has(k));
  const all = o.only.size === 0;
  const table = o.quick ? QUICK : SHAPES;
  const keys = letters.length > 0 ? letters : all || o.only.has("restore") ? Object.keys(table) : [];
  if (o.quick && o.only.has("c")) fail("--quick never runs the 4 GiB shape c");
  // Quick without a letter means shape a only (b is there for `--quick --only b`).
  const quickKeys = o.quick && letters.length === 0 && keys.length > 0 ? ["a"] : keys;
  const backup = all || (letters.length > 0 && !o.only.has("restore"));
  const restore = all || letters.length > 0 || o.only.has("restore");
  const encryption =
    o.only.has("encryption") && !quickKeys.includes("a")
      ? [{ spec: table.a!, backup: true, restore: false, encryptionOnly: true }]
      : [];
  return {
    jobs: [...quickKeys.map((k) => ({ spec: table[k]!, backup, restore })), ...encryption],
    scaling: !o.quick && (all || o.only.has("scaling")),
    startup: all || o.only.has("startup"),
    startupRuns: 10,
    offsite: !(all || o.only.has("offsite"))
      ? o.only.has("rclone")
        ? [{ spec: o.quick ? QUICK_OFFSITE : OFFSITE.speed, what: "remote" }]
        : []
      : o.quick
        ? [{ spec: QUICK_OFFSITE, what: "speed" }]
        : [
            { spec: OFFSITE.speed, what: "speed" },
            { spec: OFFSITE.memory, what: "memory" },
          ],
    load: o.only.has("load"),
  };
}
