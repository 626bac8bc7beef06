/**
 * Load: one service with 5 volumes and 200,000 files in total, and a backup_dir that also holds
 * 10,000 backups of 20 other services (fakes with valid manifests, as in measure-startup.ts).
 * Measured: wall time and peak memory of `backup` of the 200k-file service, then of `list`,
 * `prune --dry-run` and `status` over the full folder. Files are tiny (0-400 bytes of text):
 * the per-file and per-manifest costs are the point, not bytes, and the disk stays small.
 * `npm run bench -- --only load` (with --quick: 20,000 files and 1,000 backups).
 * Writes bench/results/load.md and load.json (load-quick.* with --quick).
 */
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { Prng, tarHeader, tarPadding } from "./content.ts";
import { createHelper, createVolume, removeContainer, runApp } from "./docker.ts";
import { watchDowntime } from "./downtime.ts";
import { fmtBytes, fmtKiB, fmtMs } from "./format.ts";
import type { Machine } from "./machine.ts";
import { fakeBackups } from "./measure-startup.ts";
import { runMeasured } from "./peak-memory.ts";
import { expectSuccess, start } from "./proc.ts";
import { backupsOnDisk, deleteBackup, makeProject, type Project, runTool, runToolOk } from "./project.ts";
import { type MethodResult, type Sample, summarise } from "./stats.ts";

const VOLUMES = 5;
const OTHER_SERVICES = 20;
const log = (text: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] load: ${text}`);

/** Streams `files` tiny text files (100 per folder) into the volume through a never-started helper. */
async function fillTiny(
  volume: string,
  files: number,
  seed: number,
): Promise<{ files: number; bytes: number; dirs: number }> {
  const helper = await createHelper(volume);
  const { child, done } = start("docker", ["cp", "-", `${helper}:/v/${volume}`], { stdin: "pipe" });
  const stdin = child.stdin!;
  stdin.on("error", () => undefined);
  const failed = done.then((r) =>
    r.code === 0 ? undefined : new Error(`docker cp into ${volume} failed: ${r.stderr.trim()}`),
  );
  const rnd = new Prng(seed);
  const text = Buffer.from(
    "lorem ipsum dolor sit amet, consectetur adipiscing elit; sed do eiusmod tempor\n".repeat(6),
  );
  const dirs = new Set<string>();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let bytes = 0;
  const push = async (b: Buffer, flush = false) => {
    pending.push(b);
    pendingBytes += b.length;
    if (pendingBytes < 1 << 20 && !flush) return;
    const chunk = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    if (!stdin.write(chunk)) await once(stdin, "drain");
  };
  for (let i = 0; i < files; i++) {
    const parts = [
      `d${String(Math.floor(i / 10_000)).padStart(2, "0")}`,
      `d${String(Math.floor(i / 100) % 100).padStart(2, "0")}`,
    ];
    for (let d = 1; d <= parts.length; d++) {
      const dir = parts.slice(0, d).join("/") + "/";
      if (!dirs.has(dir)) {
        dirs.add(dir);
        await push(tarHeader(dir, 0, true));
      }
    }
    const size = rnd.int(0, 400);
    await push(tarHeader(`${parts.join("/")}/f${String(i).padStart(6, "0")}.txt`, size, false));
    await push(text.subarray(0, size));
    await push(tarPadding(size));
    bytes += size;
  }
  await push(Buffer.alloc(1024), true);
  stdin.end();
  const err = await failed;
  await removeContainer(helper);
  if (err) throw err;
  return { files, bytes, dirs: dirs.size };
}

export interface LoadResult {
  quick: boolean;
  reps: number;
  files: number;
  contentBytes: number;
  dirs: number;
  generateMs: number;
  fakeBackups: number;
  otherServices: number;
  methods: MethodResult[];
}

async function timed(p: Project, args: string[]): Promise<Sample> {
  const r = await runToolOk(p, args);
  return { wallMs: r.wallMs, peakKiB: r.peakKiB };
}

async function backupOnce(p: Project, app: string): Promise<Sample> {
  const before = new Set(backupsOnDisk(p).map((b) => b.id));
  const watch = watchDowntime(app);
  const r = await runTool(p, ["backup", p.service]);
  const downtimeMs = await watch.stop();
  expectSuccess("backup", r);
  const made = backupsOnDisk(p).filter((b) => !before.has(b.id));
  if (made.length !== 1) throw new Error(`expected one new backup, found ${made.length}`);
  const m = JSON.parse(fs.readFileSync(made[0]!.manifest, "utf8")) as {
    downtime_ms: number;
    volumes: { files: number }[];
  };
  if (m.volumes.reduce((n, v) => n + v.files, 0) === 0) throw new Error("the backup's manifest counts no files");
  if (downtimeMs === undefined) throw new Error(`backup left ${app} stopped`);
  return {
    wallMs: r.wallMs,
    peakKiB: r.peakKiB,
    downtimeMs,
    archiveBytes: made[0]!.bytes,
    selfDowntimeMs: m.downtime_ms,
  };
}

export async function measureLoad(
  bin: string,
  reps: number,
  quick: boolean,
  machine: Machine,
  resultsDir: string,
): Promise<{ markdown: string; files: string[] }> {
  const files = quick ? 20_000 : 200_000;
  const backups = quick ? 1_000 : 10_000;
  const t0 = performance.now();
  const volumes: string[] = [];
  const generated = { files: 0, bytes: 0, dirs: 0 };
  for (let i = 0; i < VOLUMES; i++) {
    volumes.push(await createVolume("load"));
    const g = await fillTiny(volumes[i]!, files / VOLUMES, 4242 + i);
    for (const k of ["files", "bytes", "dirs"] as const) generated[k] += g[k];
    log(`volume ${i + 1}/${VOLUMES}: ${g.files.toLocaleString("en-US")} files`);
  }
  const generateMs = performance.now() - t0;
  const app = await runApp(volumes[0]!);
  const p = makeProject(
    bin,
    volumes.map((name, i) => (i === 0 ? { name, container: app } : { name })),
  );

  // Twenty more services, each with its share of fake backups, all enabled (status reads them all).
  const enabled: Record<string, boolean> = { [p.service]: true };
  for (let i = 0; i < OTHER_SERVICES; i++) {
    const service = `${p.service}-f${String(i).padStart(2, "0")}`;
    const volume = `${service}-data`;
    fs.mkdirSync(path.join(p.root, "services", service));
    fs.writeFileSync(
      path.join(p.root, "services", service, "service.yaml"),
      JSON.stringify({ data: { volumes: [{ name: volume }] } }) + "\n",
    );
    fakeBackups({ ...p, service }, volume, backups / OTHER_SERVICES);
    enabled[service] = true;
  }
  fs.writeFileSync(p.config, JSON.stringify({ backup_dir: p.backupDir, services: enabled }, null, 2) + "\n");
  // Into a file, not a pipe: the binary exits 50 ms after its last write, and a pipe whose reader
  // lags loses the rest of a multi-megabyte `list --json` (see docs/reliability.md).
  const out = path.join(p.root, "list.json");
  const fd = fs.openSync(out, "w");
  const r = await runMeasured(bin, ["list", "--json", "--config", p.config], {
    env: p.env,
    cwd: p.root,
    stdout: fd,
  }).finally(() => fs.closeSync(fd));
  expectSuccess("list --json", r);
  const listed = JSON.parse(fs.readFileSync(out, "utf8")) as unknown[];
  if (listed.length !== backups)
    throw new Error(`list sees ${listed.length} of ${backups} fake backups: the manifest schema has changed`);
  log(`${backups.toLocaleString("en-US")} fake backups of ${OTHER_SERVICES} services in place`);

  const samples: Record<string, Sample[]> = { backup: [], list: [], prune: [], status: [] };
  for (let rep = 1; rep <= reps; rep++) {
    const s = await backupOnce(p, app);
    samples.backup!.push(s);
    log(`backup ${rep}/${reps}: ${fmtMs(s.wallMs)}, peak ${fmtKiB(s.peakKiB)}, archive ${fmtBytes(s.archiveBytes)}`);
    // Keep one real backup (status wants it); the others would only fill the disk.
    if (rep > 1)
      backupsOnDisk(p)
        .sort((a, b) => a.id.localeCompare(b.id))
        .slice(0, -1)
        .forEach(deleteBackup);
  }
  for (let rep = 1; rep <= reps; rep++) {
    for (const [key, args] of [
      ["list", ["list"]],
      ["prune", ["prune", "--dry-run"]],
      ["status", ["status"]],
    ] as const) {
      samples[key]!.push(await timed(p, [...args]));
    }
    log(`list / prune --dry-run / status ${rep}/${reps} done`);
  }
  const n = backups + 1;
  const methods = [
    summarise(
      "backup",
      `\`backup\` of the ${files.toLocaleString("en-US")}-file service (${VOLUMES} volumes)`,
      samples.backup!,
    ),
    summarise("list", `\`list\` (${n.toLocaleString("en-US")} backups, ${OTHER_SERVICES + 1} services)`, samples.list!),
    summarise("prune", `\`prune --dry-run\` (${n.toLocaleString("en-US")} backups)`, samples.prune!),
    summarise("status", `\`status\` (${OTHER_SERVICES + 1} enabled services)`, samples.status!),
  ];
  const result: LoadResult = {
    quick,
    reps,
    files: generated.files,
    contentBytes: generated.bytes,
    dirs: generated.dirs,
    generateMs,
    fakeBackups: backups,
    otherServices: OTHER_SERVICES,
    methods,
  };
  const markdown = loadMarkdown(result, machine);
  return { markdown, files: save(resultsDir, quick ? "load-quick" : "load", { machine, ...result }, markdown) };
}

function loadMarkdown(r: LoadResult, m: Machine): string {
  const rows = r.methods.map((x) => {
    const walls = x.samples.map((s) => s.wallMs);
    const extra =
      x.id === "backup"
        ? `archive ${fmtBytes(x.median.archiveBytes)}, downtime ${fmtMs(x.median.downtimeMs)} (manifest: ${fmtMs(x.median.selfDowntimeMs)}), ${Math.round(r.files / ((x.median.wallMs ?? 1) / 1000)).toLocaleString("en-US")} files/s`
        : "";
    return `| ${x.label} | ${fmtMs(x.median.wallMs)} | ${fmtMs(Math.min(...walls))} | ${fmtMs(Math.max(...walls))} | ${fmtKiB(x.median.peakKiB)} | ${extra} |`;
  });
  return [
    `# tools-backup load benchmark${r.quick ? " (quick)" : ""}`,
    "",
    `${m.date} · ${m.toolsBackup} · ${m.cores} cores (${m.cpuModel}) · ${fmtBytes(m.memoryBytes)} RAM · Docker ${m.dockerServer} (${m.storageDriver}) · load ${m.loadAverage.join(" ")} at start`,
    "",
    `Data: ${VOLUMES} volumes, ${r.files.toLocaleString("en-US")} files of 0-400 bytes (${fmtBytes(r.contentBytes)} of content) in ${r.dirs.toLocaleString("en-US")} folders, generated in ${fmtMs(r.generateMs)}. backup_dir also holds ${r.fakeBackups.toLocaleString("en-US")} fake backups (valid manifests) of ${r.otherServices} other services. Median of ${r.reps}.`,
    "",
    "| command | median wall | min | max | peak memory | notes |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}

function save(dir: string, base: string, json: object, md: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return (
    [
      [`${base}.md`, md],
      [`${base}.json`, JSON.stringify(json, null, 2) + "\n"],
    ] as const
  ).map(([name, text]) => {
    const file = path.join(dir, name);
    fs.writeFileSync(`${file}.tmp`, text);
    fs.renameSync(`${file}.tmp`, file);
    return file;
  });
}
