/**
 * `npm run bench [-- --quick | --reps N | --only a|b|c|restore|startup|scaling|offsite | --bin PATH]`
 * Builds the binary from src/ into a private folder (so a concurrent `npm test` rebuilding
 * dist/ cannot swap it mid-run), runs the plan, writes bench/results/ and prints the tables.
 */
import fs from "node:fs";
import path from "node:path";
import { cleanup, tempDir } from "./docker.ts";
import { machine } from "./machine.ts";
import { measureLoad } from "./measure-load.ts";
import { measureStartup } from "./measure-startup.ts";
import { parseArgs, planOf, SCALING } from "./options.ts";
import { memMethod, memMethodText } from "./peak-memory.ts";
import { killAll, ok, run } from "./proc.ts";
import { type BenchResult, markdown, save } from "./report.ts";
import { type OffsiteResult, runOffsite, runShape, type ShapeResult } from "./suite.ts";

const REPO = path.resolve(import.meta.dir, "..");
const t0 = performance.now();
const opts = parseArgs(process.argv.slice(2));
const plan = planOf(opts);

let cleaning: Promise<void> | undefined;
const cleanOnce = () => (cleaning ??= cleanup());
let interrupted = false;

for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  process.on(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping what runs and removing what the benchmark created`);
    void killAll()
      .then(cleanOnce)
      .finally(() => process.exit(code));
  });
}

let rclone = false;

async function preflight(): Promise<void> {
  const v = await run("docker", ["version", "--format", "{{.Server.Version}}"]);
  if (v.code !== 0) throw new Error(`the Docker engine is not reachable: ${v.stderr.trim()}`);
  const img = await run("docker", ["image", "inspect", "--format", "{{.Id}}", "busybox:stable"]);
  if (img.code !== 0)
    throw new Error("busybox:stable is not on this machine; the benchmark never pulls, so load or build it first");
  if (plan.offsite.length > 0) {
    const node = await run("node", ["--version"]).catch(() => undefined);
    if (node?.code !== 0) throw new Error("node is not installed; the offsite measurement runs its S3 server with it");
    rclone = (await run("rclone", ["version"]).catch(() => undefined))?.code === 0;
    // CI's quick run keeps working without rclone; a full run is there to compare with it.
    if (!rclone && (!opts.quick || opts.only.has("rclone")))
      throw new Error("rclone is not installed; the offsite measurement compares with it (apt-get install rclone)");
  }
  // Only backups have the limit with compression: a restore or start-up run does without zstd.
  if (!plan.scaling && !plan.jobs.some((j) => j.backup)) return;
  const zstd = await run("zstd", ["--version"]).catch(() => undefined);
  if (zstd?.code !== 0)
    throw new Error("the zstd CLI is not installed; the limit with compression needs it (apt-get install zstd)");
}

/** The binary under test, in a folder of this run. */
async function binary(): Promise<string> {
  const out = path.join(tempDir("bin"), "tools-backup");
  if (opts.bin) {
    fs.copyFileSync(opts.bin, out);
    fs.chmodSync(out, 0o755);
    return out;
  }
  const r = await run(process.execPath, ["scripts/build.ts"], {
    cwd: REPO,
    env: { ...(process.env as Record<string, string>), TOOLS_BACKUP_OUTFILE: out },
  });
  if (r.code !== 0)
    throw new Error(
      `building the binary failed (pass --bin dist/tools-backup to benchmark an existing one):\n${r.stderr.trim()}`,
    );
  return out;
}

const NOTES = [
  "Every method reads the same volume, generated once per shape from a fixed seed; repetitions interleave the methods so load on the machine hits them alike.",
  "The data is in the page cache (just written): this measures CPU and Docker API cost, not the disk. tools-backup leaves its archives out of the cache, so each is read once, untimed, before our restores.",
  "Downtime is the app container's `die` → `start` in `docker events` (timeNano), summed if a run stops it more than once (restore stops it once since the safety backup is taken while it is down).",
  "Floor: `tar cf - DIR | cat > /dev/null` on the host. Written as `tar cf - DIR > /dev/null`, GNU tar sees /dev/null as its archive and skips reading file contents, which would make the floor meaningless.",
  "Restores: ours empties the volume and extracts (the upload `docker cp -a` makes, on the engine's socket), so the result equals the archive; the recipe and the limit extract over the existing files. Every restore is checked afterwards (file count and bytes on the host).",
  "Recipe archives are gzip -6 (busybox tar czf); ours are zstd -1 in 1 MiB frames with sha256 and a manifest.",
];

const OFFSITE_NOTES = [
  "Offsite: the S3 server is @20minutes/s3rver (the tests. launcher, tests/helpers/s3-launcher.mjs) in its own Node process on loopback, storing on the same disk; both clients upload to it with their defaults (ours: 5 MiB parts, 4 in flight, each part's sha256 signed; rclone 1.60: 5 MiB parts, 4 in flight, above its 200 MiB cutoff, one PUT below it, as in --quick).",
  "Ours is timed from the local manifest's mtime to the timestamp of the binary's `uploaded` line (the archive, then the manifest; the listing and orphan check first), rclone by its process's wall time. Both read an archive that tools-backup wrote and left out of the page cache.",
  "The offsite volume is incompressible, so the archive is as large as the volume. Every upload's object size is checked on the server's disk, and each run's objects and local backups are removed before the next.",
  "rclone remote: with rclone installed, the speed run also uploads to `rclone serve webdav` on loopback (user and password, in its own process, storing on the same disk) through an rclone.conf (mode 0600) with a webdav remote, run by run: our backup with that copy (`url: rclone:dav:tools`, timed as for S3) and `rclone copyto` of the archive ours has just sent, from the same place, to the same server (wall time), after the S3 runs. That project's backup_dir is in memory (tmpfs, /dev/shm), so rclone reads the archive at the same cost in both: on disk, this virtual machine charges a file's first read after it was written several times the system time of a later read (`cat` of 1 GiB: 1.5-1.7 s against 0.05-0.1 s; likely its balloon's free page reporting, memory handed back to the host and faulted in again), and only ours would read it first. A first upload to the fresh server (untimed) comes before the runs, as a new server's first upload is slower.",
  "Restore from the copy: one more backup with a copy (untimed) is restored, run by run, three ways: (a) `rclone copyto` of its object to a file, (b) `tools-backup restore SVC --from ID --yes` with the archive in backup_dir (read into the page cache first, as in the restore table), (c) the same restore from a fresh project with the same offsite entry and an empty backup_dir, whole wall time; the safety backup is in (b) and (c), the fetch time is (c)'s own `fetched` line. Target: (c) ÷ ((a) + (b)) at most 1.",
];

async function main(): Promise<void> {
  await preflight();
  const bin = await binary();
  const version = (await ok(bin, ["--version"])).stdout.trim();
  const info = await machine(version);
  console.error(`benchmarking ${version} (${bin}); peak memory by ${memMethod}`);
  const shapes: ShapeResult[] = [];
  for (const job of plan.jobs) shapes.push(await runShape(job, bin, opts.reps));
  const scalingPoints: ShapeResult[] = [];
  if (plan.scaling) {
    for (const spec of [...SCALING.size, ...SCALING.count]) {
      if (shapes.some((s) => s.spec.key === spec.key && s.backup)) continue;
      scalingPoints.push(await runShape({ spec, backup: true, restore: false }, bin, opts.reps));
    }
  }
  const offsite: OffsiteResult[] = [];
  for (const job of plan.offsite) offsite.push(await runOffsite(job, bin, opts.reps, rclone));
  const startup = plan.startup ? await measureStartup(bin, plan.startupRuns) : undefined;
  if (plan.load) {
    const load = await measureLoad(bin, opts.reps, opts.quick, info, path.join(REPO, "bench", "results"));
    process.stdout.write(load.markdown);
    console.error(`\nwritten: ${load.files.map((f) => path.relative(REPO, f)).join(", ")}`);
    if (plan.jobs.length === 0 && !plan.scaling && !startup && offsite.length === 0) return;
  }
  const result: BenchResult = {
    machine: info,
    options: { quick: opts.quick, reps: opts.reps, only: [...opts.only] },
    memMethod: memMethodText[memMethod],
    notes: [...(shapes.length + scalingPoints.length > 0 ? NOTES : []), ...(offsite.length > 0 ? OFFSITE_NOTES : [])],
    shapes,
    offsite,
    scalingPoints,
    scaling: plan.scaling
      ? { size: SCALING.size.map((s) => s.key), count: SCALING.count.map((s) => s.key) }
      : undefined,
    startup,
    durationMs: performance.now() - t0,
  };
  const md = markdown(result);
  // Only a complete run is "latest": a quick or partial one must not overwrite the full results.
  // `--only offsite` and `--only encryption` have files of their own, like `--only load`.
  const only = [...opts.only].sort().join("-");
  const own = only === "offsite" || only === "encryption" || only === "rclone";
  const base = opts.quick ? "quick" : own ? only : only ? `only-${only}` : "latest";
  const files = save(path.join(REPO, "bench", "results"), base, result, md);
  process.stdout.write(md);
  console.error(`\nwritten: ${files.map((f) => path.relative(REPO, f)).join(", ")}`);
}

try {
  await main();
} catch (e) {
  // After a signal the failing measurement is only the echo of the interruption.
  if (!interrupted) console.error(`benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
} finally {
  await cleanOnce();
}
