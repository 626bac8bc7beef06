/**
 * A throwaway tools root: services/<name>/service.yaml and backup.yaml, written from objects
 * or raw strings, plus a backup_dir and a state folder of its own.
 */
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { tempDir } from "./cli.ts";

export interface VolumeDecl {
  name: string;
  container?: string;
}

/** A service: its volumes, a raw service.yaml text, or null for a service with no data section. */
export type ServiceDecl = VolumeDecl[] | string | null;

export interface ProjectSpec {
  services?: Record<string, ServiceDecl>;
  /** backup.yaml as an object (backup_dir defaults to <root>/backups) or as raw text. */
  config?: Record<string, unknown> | string;
}

export interface Project {
  root: string;
  config: string;
  backupDir: string;
  stateHome: string;
  /** `--config <file>`, ready to spread into args. */
  args: string[];
  serviceFolder(service: string): string;
  writeConfig(config: Record<string, unknown> | string, file?: string): string;
  writeService(name: string, decl: ServiceDecl): string;
}

export function makeProject(spec: ProjectSpec = {}): Project {
  const root = tempDir("tbtest-project-");
  const backupDir = path.join(root, "backups");
  const stateHome = path.join(root, "state");
  fs.mkdirSync(path.join(root, "services"), { recursive: true });
  fs.mkdirSync(backupDir, { recursive: true });

  const writeService = (name: string, decl: ServiceDecl): string => {
    const dir = path.join(root, "services", name);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "service.yaml");
    const text =
      typeof decl === "string"
        ? decl
        : YAML.stringify({ name, description: `test service ${name}`, ...(decl ? { data: { volumes: decl } } : {}) });
    fs.writeFileSync(file, text);
    return file;
  };

  const writeConfig = (config: Record<string, unknown> | string, file = path.join(root, "backup.yaml")): string => {
    fs.writeFileSync(file, typeof config === "string" ? config : YAML.stringify({ backup_dir: backupDir, ...config }));
    return file;
  };

  for (const [name, decl] of Object.entries(spec.services ?? {})) writeService(name, decl);
  const enabledAll = Object.fromEntries(Object.keys(spec.services ?? {}).map((n) => [n, true]));
  const config = writeConfig(spec.config ?? { services: enabledAll });

  return {
    root,
    config,
    backupDir,
    stateHome,
    args: ["--config", config],
    serviceFolder: (service) => path.join(backupDir, service),
    writeConfig,
    writeService,
  };
}

/** Names in a folder, or [] when it does not exist. */
export function filesIn(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** A file's text, or undefined when it does not exist (yet). */
export function textIfAny(file: string): string | undefined {
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
}

export function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

export function readJson<T = any>(file: string): T {
  return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

/** The id a backup of `service` made now on `host` gets: service_yyyymmddThhmmssZ_host. */
export function idPattern(service: string, host: string): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${esc(service)}_(\\d{8}T\\d{6}Z)_${esc(host)}$`);
}

export function stampToDate(stamp: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp)!;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

/** The created_at a backup with this id was written with: the date its stamp names. */
export function createdAtOf(id: string): string {
  return stampToDate(/_(\d{8}T\d{6}Z)_[^_]+$/.exec(id)![1]!).toISOString();
}

/**
 * Moves a backup to another date (and host) the way one made then would look: both files renamed
 * to the new id, id, host, created_at and archive.file patched; the archive's bytes and sha256 are
 * unchanged, so it stays a valid backup. (Editing created_at alone makes a manifest its file name
 * contradicts, which the catalog does not trust.) Returns the new id and files.
 */
export function redateBackup(
  manifestFile: string,
  created: Date,
  host?: string,
): { id: string; manifest: string; file: string } {
  const m = readJson(manifestFile);
  const folder = path.dirname(manifestFile);
  const stamp = created
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");
  const id = `${m.service}_${stamp}_${host ?? m.id.slice(m.id.lastIndexOf("_") + 1)}`;
  const file = id + m.archive.file.slice(m.id.length);
  const [manifest, archive] = [path.join(folder, `${id}.json`), path.join(folder, file)];
  if (fs.existsSync(manifest) || fs.existsSync(archive)) throw new Error(`redateBackup: ${id} exists already`);
  fs.renameSync(path.join(folder, m.archive.file), archive);
  fs.rmSync(manifestFile);
  const patched = {
    ...m,
    id,
    host: host ?? m.host,
    created_at: new Date(Math.floor(created.getTime() / 1000) * 1000).toISOString(),
    archive: { ...m.archive, file },
  };
  fs.writeFileSync(manifest, JSON.stringify(patched, null, 2), { mode: 0o600 });
  return { id, manifest, file: archive };
}

/**
 * A copy of a backup made at another date (and host), beside the original: both files copied to a
 * scratch folder, moved there by redateBackup, then put in the original's folder.
 */
export function copyBackup(
  manifestFile: string,
  created: Date,
  host?: string,
): { id: string; manifest: string; file: string } {
  const scratch = tempDir("tbtest-copy-");
  const archive = readJson(manifestFile).archive.file;
  fs.copyFileSync(manifestFile, path.join(scratch, path.basename(manifestFile)));
  fs.copyFileSync(path.join(path.dirname(manifestFile), archive), path.join(scratch, archive));
  const moved = redateBackup(path.join(scratch, path.basename(manifestFile)), created, host);
  const folder = path.dirname(manifestFile);
  const into = (file: string) => {
    const to = path.join(folder, path.basename(file));
    if (fs.existsSync(to)) throw new Error(`copyBackup: ${to} exists already`);
    fs.renameSync(file, to);
    return to;
  };
  return { id: moved.id, file: into(moved.file), manifest: into(moved.manifest) };
}

/** A project's local backups of `service`: id, archive and manifest files, oldest first. */
export function localBackups(p: Project, service: string): { id: string; archive: string; manifest: string }[] {
  const folder = p.serviceFolder(service);
  const names = fs.existsSync(folder) ? fs.readdirSync(folder).sort() : [];
  return names
    .filter((n) => n.endsWith(".json"))
    .map((n) => {
      const m = JSON.parse(fs.readFileSync(path.join(folder, n), "utf8"));
      return { id: m.id as string, archive: path.join(folder, m.archive.file), manifest: path.join(folder, n) };
    });
}
