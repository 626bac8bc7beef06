/**
 * A throwaway tools root for the binary: services/<name>/service.yaml, backup.yaml with its own
 * backup_dir, its own XDG folders, a short stop timeout. The binary runs the way cron runs it:
 * no terminal, NO_COLOR, nothing inherited that could pick up another config.
 */
import fs from "node:fs";
import path from "node:path";
import { recordService, tempDir, uniqueName } from "./docker.ts";
import { type Measured, runMeasured } from "./peak-memory.ts";
import { expectSuccess } from "./proc.ts";

/** Fixed host name in file names, so fake backups and real ones look alike. */
export const HOST = "tbbench";

export interface Project {
  bin: string;
  root: string;
  config: string;
  backupDir: string;
  service: string;
  env: Record<string, string>;
}

export interface VolumeDecl {
  name: string;
  container?: string;
}

export function makeProject(bin: string, volumes: VolumeDecl[]): Project {
  const root = tempDir("project");
  // Service names must match the product's [a-z0-9][a-z0-9_.-]* and stay unique per run.
  const service = uniqueName("svc");
  recordService(service);
  const backupDir = path.join(root, "backups");
  fs.mkdirSync(path.join(root, "services", service), { recursive: true });
  // JSON is valid YAML: no YAML writer needed for these two small files.
  fs.writeFileSync(
    path.join(root, "services", service, "service.yaml"),
    JSON.stringify({ name: service, data: { volumes } }, null, 2) + "\n",
  );
  const config = path.join(root, "backup.yaml");
  fs.writeFileSync(config, JSON.stringify({ backup_dir: backupDir, services: { [service]: true } }, null, 2) + "\n");
  fs.mkdirSync(path.join(root, "state"));
  fs.mkdirSync(backupDir);
  fs.mkdirSync(path.join(root, "xdg-config"));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  for (const k of [
    "TOOLS_BACKUP_CONFIG",
    "TOOLS_ROOT",
    "TOOLS_BACKUP_DOCKER",
    "TOOLS_BACKUP_RUNNER_IMAGE",
    "FORCE_COLOR",
    "CI",
  ])
    delete env[k];
  Object.assign(env, {
    NO_COLOR: "1",
    TERM: "dumb",
    XDG_STATE_HOME: path.join(root, "state"),
    XDG_CONFIG_HOME: path.join(root, "xdg-config"),
    TOOLS_BACKUP_STOP_TIMEOUT: "2",
    TOOLS_BACKUP_HOST: HOST,
  });
  return { bin, root, config, backupDir, service, env };
}

/**
 * The binary with `--config` (not for `--version`, which takes no options), stdout discarded
 * unless asked for: a 1,000-row table is not data here.
 */
export function runTool(p: Project, args: string[], keepStdout = false): Promise<Measured> {
  const config = args[0] === "--version" ? [] : ["--config", p.config];
  return runMeasured(p.bin, [...args, ...config], { env: p.env, cwd: p.root, stdout: keepStdout ? "pipe" : "ignore" });
}

export function runToolOk(p: Project, args: string[], keepStdout = false): Promise<Measured> {
  return runTool(p, args, keepStdout).then((r) => {
    expectSuccess(`tools-backup ${args.join(" ")}`, r);
    return r;
  });
}

export interface ListedBackup {
  id: string;
  file: string;
  manifest: string;
  kind: string;
  bytes: number;
}

/** What `list --json` says; measure-startup uses it to check that the fakes are accepted. */
export async function listBackups(p: Project): Promise<ListedBackup[]> {
  const r = await runToolOk(p, ["list", p.service, "--json"], true);
  return JSON.parse(r.stdout) as ListedBackup[];
}

/**
 * The manifests in the service's folder, read directly: between measurements this is cheaper
 * than two `list` runs of the binary, and on a loaded machine those seconds add up.
 */
export function backupsOnDisk(p: Project): ListedBackup[] {
  const folder = path.join(p.backupDir, p.service);
  if (!fs.existsSync(folder)) return [];
  return fs
    .readdirSync(folder)
    .filter((n) => n.endsWith(".json") && !n.startsWith(".tmp-"))
    .map((n) => {
      const m = JSON.parse(fs.readFileSync(path.join(folder, n), "utf8")) as {
        id: string;
        kind: string;
        archive: { file: string; bytes: number };
      };
      return {
        id: m.id,
        file: path.join(folder, m.archive.file),
        manifest: path.join(folder, n),
        kind: m.kind,
        bytes: m.archive.bytes,
      };
    });
}

/** Removes a backup's two files; archives of a 4 GiB volume add up fast over several repetitions. */
export function deleteBackup(b: ListedBackup): void {
  fs.rmSync(b.file, { force: true });
  fs.rmSync(b.manifest, { force: true });
}
