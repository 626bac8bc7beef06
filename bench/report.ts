/**
 * The results as Markdown tables (printed, and saved beside a JSON file with every raw sample).
 * Ratios are ours ÷ the other method: below 1 means tools-backup is faster, smaller or shorter.
 */
import fs from "node:fs";
import path from "node:path";
import { fmtBytes, fmtKiB, fmtMs, fmtRate, fmtRatio } from "./format.ts";
import type { Machine } from "./machine.ts";
import type { StartupResult } from "./measure-startup.ts";
import { type MethodResult, ratio, type Sample } from "./stats.ts";
import type { OffsiteResult, ShapeResult } from "./suite.ts";

export interface BenchResult {
  machine: Machine;
  options: { quick: boolean; reps: number; only: string[] };
  memMethod: string;
  notes: string[];
  shapes: ShapeResult[];
  offsite: OffsiteResult[];
  /** Points run only for the scaling tables (a, b and c are reused from `shapes`). */
  scalingPoints: ShapeResult[];
  scaling?: { size: string[]; count: string[] };
  startup?: StartupResult;
  durationMs: number;
}

const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
const table = (head: string[], rows: string[][]) =>
  [row(head), row(head.map(() => "---")), ...rows.map(row)].join("\n");
const find = (ms: MethodResult[] | undefined, id: string) => ms?.find((m) => m.id === id);
const dataBytes = (s: ShapeResult) => s.generated.bytes;

/** Where the time goes on a CPU-bound machine: the process measured (with its docker CLI children) and Docker's daemons. */
const CPU_HEAD = "CPU: process + docker CLI / Docker daemons";
const fmtCpu = (m: MethodResult) =>
  m.median.cpuMs === undefined && m.median.dockerCpuMs === undefined
    ? "–"
    : `${fmtMs(m.median.cpuMs)} / ${fmtMs(m.median.dockerCpuMs)}`;

function backupTable(s: ShapeResult, ms: MethodResult[]): string {
  const ours = find(ms, "ours")!.median;
  return table(
    [
      "method",
      "wall",
      "throughput",
      "downtime",
      "archive",
      "peak memory",
      CPU_HEAD,
      "ours ÷ this (wall)",
      "ours ÷ this (downtime)",
      "ours ÷ this (size)",
    ],
    ms.map((m) => [
      m.label,
      fmtMs(m.median.wallMs),
      fmtRate(dataBytes(s), m.median.wallMs),
      fmtMs(m.median.downtimeMs),
      fmtBytes(m.median.archiveBytes),
      fmtKiB(m.median.peakKiB),
      fmtCpu(m),
      fmtRatio(ratio(ours.wallMs, m.median.wallMs)),
      fmtRatio(ratio(ours.downtimeMs, m.median.downtimeMs)),
      fmtRatio(ratio(ours.archiveBytes, m.median.archiveBytes)),
    ]),
  );
}

function restoreTable(s: ShapeResult, ms: MethodResult[]): string {
  const ours = find(ms, "ours")!.median;
  const bare = find(ms, "ours-no-safety")!.median;
  return table(
    [
      "method",
      "wall",
      "throughput",
      "downtime",
      "peak memory",
      CPU_HEAD,
      "ours ÷ this (wall)",
      "ours --no-safety-backup ÷ this (wall)",
      "ours ÷ this (downtime)",
    ],
    ms.map((m) => [
      m.label,
      fmtMs(m.median.wallMs),
      fmtRate(dataBytes(s), m.median.wallMs),
      fmtMs(m.median.downtimeMs),
      fmtKiB(m.median.peakKiB),
      fmtCpu(m),
      fmtRatio(ratio(ours.wallMs, m.median.wallMs)),
      fmtRatio(ratio(bare.wallMs, m.median.wallMs)),
      fmtRatio(ratio(ours.downtimeMs, m.median.downtimeMs)),
    ]),
  );
}

/** The encrypted backup against the plain one, run by run: the target is at most 1.15×. */
function encryptionLine(ms: MethodResult[]): string {
  const plain = find(ms, "ours")!;
  const sealed = find(ms, "ours-age")!;
  const runs = sealed.samples.map((x, i) => fmtRatio(ratio(x.wallMs, plain.samples[i]!.wallMs)));
  return (
    `Encrypted ÷ plain (wall): ${fmtRatio(ratio(sealed.median.wallMs, plain.median.wallMs))} ` +
    `(runs: ${runs.join(", ")}); peak memory ${fmtKiB(sealed.median.peakKiB)} against ${fmtKiB(plain.median.peakKiB)}.`
  );
}

function shapeSection(s: ShapeResult): string {
  const g = s.generated;
  const out = [
    `## Shape ${s.spec.key}: ${s.spec.label}`,
    "",
    `${fmtBytes(g.bytes)} in ${g.files.toLocaleString("en-US")} files and ${g.dirs} folders; median of ${s.reps}.`,
  ];
  if (s.backup) {
    const self = find(s.backup, "ours")!.median.selfDowntimeMs;
    out.push("", "### Backup", "", backupTable(s, s.backup), "", encryptionLine(s.backup));
    if (self !== undefined)
      out.push(
        "",
        `tools-backup's own manifest says downtime_ms = ${fmtMs(self)} (stop request to start returned; the table uses the engine's die → start).`,
      );
  }
  if (s.restore) out.push("", "### Restore", "", restoreTable(s, s.restore));
  out.push(
    "",
    "CPU is user + system time (each core gives one CPU second per second of wall time); the recipe's tar runs in a container, whose CPU neither column sees.",
  );
  return out.join("\n");
}

function offsiteTable(o: OffsiteResult): string {
  const rclone = find(o.methods, "rclone")?.median;
  return table(
    [
      "method",
      "wall",
      "upload",
      "upload throughput",
      "downtime (engine / manifest)",
      "peak memory",
      "CPU: client / S3 server",
      "upload ÷ rclone's",
    ],
    o.methods.map((m) => [
      m.label,
      fmtMs(m.median.wallMs),
      fmtMs(m.median.uploadMs),
      m.median.uploadMs === undefined ? "–" : fmtRate(m.median.archiveBytes ?? 0, m.median.uploadMs),
      m.median.downtimeMs === undefined ? "–" : `${fmtMs(m.median.downtimeMs)} / ${fmtMs(m.median.selfDowntimeMs)}`,
      fmtKiB(m.median.peakKiB),
      `${fmtMs(m.median.cpuMs)} / ${fmtMs(m.median.serverCpuMs)}`,
      m.id === "rclone" ? "" : fmtRatio(ratio(m.median.uploadMs, rclone?.uploadMs)),
    ]),
  );
}

/** Each repetition's pair (ours and rclone ran next to each other), so one median hides no spread. */
function offsitePairs(o: OffsiteResult): string | undefined {
  const ours = find(o.methods, "offsite")!.samples;
  const rclone = find(o.methods, "rclone")?.samples;
  if (!rclone) return undefined;
  const pairs = ours.map((s, i) => fmtRatio(ratio(s.uploadMs, rclone[i]?.uploadMs)));
  return `Upload ÷ rclone's, repetition by repetition: ${pairs.join(", ")}.`;
}

function offsiteSection(o: OffsiteResult): string {
  const g = o.generated;
  if (o.what === "remote") return [`## Offsite rclone remote: ${o.spec.label}`, ...remoteSection(o)].join("\n");
  const local = find(o.methods, "local")!.median;
  const copy = find(o.methods, "offsite")!.median;
  const delta = (a?: number, b?: number) => (a === undefined || b === undefined ? "–" : fmtMs(a - b));
  const out = [
    `## Offsite ${o.what}: ${o.spec.label}`,
    "",
    `${fmtBytes(g.bytes)} in ${g.files} files; median of ${o.reps}.`,
    "",
    offsiteTable(o),
    "",
    `With a copy against without: downtime ${delta(copy.downtimeMs, local.downtimeMs)} (engine), ` +
      `${delta(copy.selfDowntimeMs, local.selfDowntimeMs)} (manifest); wall ${delta(copy.wallMs, local.wallMs)} ` +
      `(the upload measured another way, with the backup's own spread in it).`,
  ];
  const pairs = offsitePairs(o);
  if (pairs) out.push("", pairs);
  else if (o.what === "speed") out.push("", "rclone is not installed: no comparison in this run.");
  out.push(...remoteSection(o), ...offsiteRestore(o));
  return out.join("\n");
}

/** Upload to an rclone remote (WebDAV on loopback): ours against `rclone copyto`, with each run's pair. */
function remoteSection(o: OffsiteResult): string[] {
  const ms = o.rcloneRemote;
  const ours = find(ms, "remote");
  const rclone = find(ms, "remote-rclone");
  if (!ms || !ours || !rclone) return [];
  const rows = ms.map((m) => [
    m.label,
    fmtMs(m.median.uploadMs),
    fmtRate(m.median.archiveBytes ?? 0, m.median.uploadMs ?? 0),
    fmtKiB(m.median.peakKiB),
    `${fmtMs(m.median.cpuMs)} / ${fmtMs(m.median.serverCpuMs)}`,
    m === rclone ? "" : fmtRatio(ratio(m.median.uploadMs, rclone.median.uploadMs)),
  ]);
  const pairs = ours.samples.map((s, i) => fmtRatio(ratio(s.uploadMs, rclone.samples[i]?.uploadMs)));
  return [
    "",
    `### Upload to an rclone remote (\`rclone serve webdav\` on loopback, ${fmtBytes(o.generated.bytes)} archive)`,
    "",
    table(["method", "upload", "upload throughput", "peak memory", "CPU: client / WebDAV server", "÷ rclone's"], rows),
    "",
    `Upload ÷ rclone copyto's, repetition by repetition: ${pairs.join(", ")}.`,
  ];
}

/** (c) ÷ ((a) + (b)); without rclone, (a) is the fetch inside (c) as the binary reports it. */
function copyRestoreRatio(download: number | undefined, local: number | undefined, copy: Partial<Sample>) {
  const a = download ?? copy.fetchMs;
  return a === undefined || local === undefined ? undefined : ratio(copy.wallMs, a + local);
}

function offsiteRestore(o: OffsiteResult): string[] {
  const ms = o.restore;
  const local = find(ms, "restore-local");
  const copy = find(ms, "restore-copy");
  if (!ms || !local || !copy) return [];
  const download = find(ms, "download");
  const rows = ms.map((m) => [
    m.label,
    fmtMs(m.median.wallMs),
    fmtMs(m.median.fetchMs),
    fmtKiB(m.median.peakKiB),
    `${fmtMs(m.median.cpuMs)} / ${fmtMs(m.median.serverCpuMs)}`,
  ]);
  const pairs = copy.samples.map((c, i) =>
    fmtRatio(copyRestoreRatio(download?.samples[i]?.wallMs, local.samples[i]?.wallMs, c)),
  );
  const r = copyRestoreRatio(download?.median.wallMs, local.median.wallMs, copy.median);
  const after = copy.median.fetchMs === undefined ? undefined : copy.median.wallMs! - copy.median.fetchMs;
  return [
    "",
    `### Restore from the copy (${fmtBytes(o.generated.bytes)} backup, safety backup included)`,
    "",
    table(["method", "wall", "fetch (binary's own line)", "peak memory", "CPU: client / S3 server"], rows),
    "",
    `(c) ÷ ((a) + (b)): ${fmtRatio(r)} (runs: ${pairs.join(", ")})` +
      (download ? "." : "; rclone is not installed, so (a) is the fetch inside (c)."),
    `(c) after its fetch: ${fmtMs(after)}, against (b) ${fmtMs(local.median.wallMs)}.`,
  ];
}

type Rate = (s: ShapeResult, ms: number | undefined) => string;
const bytesRate: Rate = (s, ms) => fmtRate(dataBytes(s), ms);
/** With 1-8 KiB files the per-file cost dominates: files per second says more than MiB/s. */
const filesRate: Rate = (s, ms) =>
  ms ? `${Math.round(s.generated.files / (ms / 1000)).toLocaleString("en-US")} files/s` : "–";

function scalingTable(
  r: BenchResult,
  keys: string[],
  first: string,
  firstOf: (s: ShapeResult) => string,
  rate: Rate,
): string {
  const all = [...r.shapes, ...r.scalingPoints];
  const rows = keys.flatMap((k) => {
    const s = all.find((x) => x.spec.key === k && x.backup);
    if (!s) return [];
    const ours = find(s.backup, "ours")!.median;
    const recipe = find(s.backup, "recipe")?.median;
    const limit = find(s.backup, "limit")?.median;
    return [
      [
        firstOf(s),
        fmtMs(ours.wallMs),
        rate(s, ours.wallMs),
        fmtKiB(ours.peakKiB),
        fmtMs(recipe?.wallMs),
        fmtMs(limit?.wallMs),
        fmtRatio(ratio(ours.wallMs, recipe?.wallMs)),
        fmtRatio(ratio(ours.wallMs, limit?.wallMs)),
      ],
    ];
  });
  return table(
    [
      first,
      "ours wall",
      "ours throughput",
      "ours peak memory",
      "recipe wall",
      "docker cp wall",
      "ours ÷ recipe",
      "ours ÷ docker cp",
    ],
    rows,
  );
}

function startupSection(st: StartupResult): string {
  const rows = st.methods.map((m) => {
    const walls = m.samples.map((x) => x.wallMs);
    return [
      m.label,
      fmtMs(m.median.wallMs),
      fmtMs(Math.min(...walls)),
      fmtMs(Math.max(...walls)),
      fmtKiB(m.median.peakKiB),
    ];
  });
  return [
    `## Start-up (${st.version}), median of ${st.runs} runs`,
    "",
    table(["command", "median wall", "min", "max", "peak memory"], rows),
  ].join("\n");
}

export function markdown(r: BenchResult): string {
  const m = r.machine;
  const out = [
    `# tools-backup benchmark${r.options.quick ? " (quick)" : ""}`,
    "",
    `${m.date} · ${m.toolsBackup} · ${m.cores} cores (${m.cpuModel}) · ${fmtBytes(m.memoryBytes)} RAM · ${m.os} · Docker ${m.dockerServer} (${m.storageDriver}) · Bun ${m.bun} · load ${m.loadAverage.join(" ")} at start · ${fmtMs(r.durationMs)} total`,
    "",
    `Options: reps ${r.options.reps}${r.options.only.length ? `, only ${r.options.only.join(",")}` : ""}. Peak memory: ${r.memMethod}.`,
  ];
  for (const s of r.shapes) out.push("", shapeSection(s));
  if (r.scaling) {
    out.push(
      "",
      "## Scaling",
      "",
      "### Against volume size (mixed data)",
      "",
      scalingTable(
        r,
        r.scaling.size,
        "volume",
        (s) => `${fmtBytes(dataBytes(s))} (${s.generated.files} files)`,
        bytesRate,
      ),
    );
    out.push(
      "",
      "### Against file count (1-8 KiB files)",
      "",
      scalingTable(
        r,
        r.scaling.count,
        "files",
        (s) => `${s.generated.files.toLocaleString("en-US")} (${fmtBytes(dataBytes(s))})`,
        filesRate,
      ),
    );
  }
  for (const o of r.offsite ?? []) out.push("", offsiteSection(o));
  if (r.startup) out.push("", startupSection(r.startup));
  if (r.notes.length) out.push("", "## Notes", "", ...r.notes.map((n) => `- ${n}`));
  return out.join("\n") + "\n";
}

/** Written under a .tmp name first (ignored by git), so a killed run never leaves half a file. */
export function save(dir: string, base: string, r: BenchResult, md: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    [`${base}.md`, md],
    [`${base}.json`, JSON.stringify(r, null, 2) + "\n"],
  ];
  return files.map(([name, text]) => {
    const file = path.join(dir, name);
    fs.writeFileSync(`${file}.tmp`, text);
    fs.renameSync(`${file}.tmp`, file);
    return file;
  });
}
