/**
 * Fixed costs a user feels on every call: `tools-backup --version` (runtime start-up) and
 * `tools-backup list` over 1,000 backups (reading and validating 1,000 manifests, one stat
 * each). Making 1,000 real backups would take an hour, so the backups are fakes that the
 * product cannot tell apart: one tiny real archive, copied, each with a valid manifest.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { tarHeader, tarPadding } from "./content.ts";
import { expectSuccess } from "./proc.ts";
import { HOST, listBackups, makeProject, type Project, runTool } from "./project.ts";
import { type MethodResult, type Sample, summarise } from "./stats.ts";

const KINDS = ["scheduled", "manual", "pre-restore"] as const;

/** yyyymmddThhmmssZ, as in the product's file names. */
const stampOf = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");

export function fakeBackups(p: Project, volume: string, count: number): void {
  const content = Buffer.from("hello from tbbench\n");
  const tar = Buffer.concat([
    tarHeader(`${volume}/`, 0, true),
    tarHeader(`${volume}/hello.txt`, content.length, false),
    content,
    tarPadding(content.length),
    Buffer.alloc(1024),
  ]);
  const archive = zlib.zstdCompressSync(tar);
  const sha256 = createHash("sha256").update(archive).digest("hex");
  const folder = path.join(p.backupDir, p.service);
  fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
  // One an hour going back from now: spread over weeks like a real nightly-plus-manual history.
  const now = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  for (let i = 0; i < count; i++) {
    const created = new Date(now - i * 3_600_000);
    const id = `${p.service}_${stampOf(created)}_${HOST}`;
    const file = `${id}.tar.zst`;
    fs.writeFileSync(path.join(folder, file), archive, { mode: 0o600 });
    const manifest = {
      format: 1,
      id,
      service: p.service,
      host: HOST,
      created_at: created.toISOString(),
      kind: KINDS[i % KINDS.length],
      tool_version: "tbbench-fake",
      volumes: [{ name: volume, bytes: content.length, files: 1, entries: 2, devices: 0, setuid: 0 }],
      archive: { file, bytes: archive.length, sha256, compression: "zstd" },
      duration_ms: 1000,
      downtime_ms: 500,
      containers_stopped: [],
      warnings: [],
      custom_script: false,
    };
    fs.writeFileSync(path.join(folder, `${id}.json`), JSON.stringify(manifest, null, 2) + "\n", { mode: 0o600 });
  }
}

async function timed(p: Project, args: string[]): Promise<Sample> {
  const r = await runTool(p, args);
  expectSuccess(`tools-backup ${args.join(" ")}`, r);
  return { wallMs: r.wallMs, peakKiB: r.peakKiB };
}

export interface StartupResult {
  runs: number;
  backups: number;
  version: string;
  methods: MethodResult[];
}

export async function measureStartup(bin: string, runs: number, backups = 1000): Promise<StartupResult> {
  // The volume is never touched: list reads backup_dir only.
  const volume = "tbbench-list-volume";
  const p = makeProject(bin, [{ name: volume }]);
  fakeBackups(p, volume, backups);
  const listed = await listBackups(p);
  // Fakes the product rejects would make `list` look fast for the wrong reason.
  if (listed.length !== backups)
    throw new Error(`list sees ${listed.length} of ${backups} fake backups: the manifest schema has changed`);
  const version = (await runTool(p, ["--version"], true)).stdout.trim();
  const versions: Sample[] = [];
  const lists: Sample[] = [];
  // Interleaved, so a burst of load on the shared machine hits both alike.
  for (let i = 0; i < runs; i++) {
    versions.push(await timed(p, ["--version"]));
    lists.push(await timed(p, ["list"]));
  }
  return {
    runs,
    backups,
    version,
    methods: [
      summarise("version", "`tools-backup --version`", versions),
      summarise("list", `\`tools-backup list\` (${backups} backups)`, lists),
    ],
  };
}
