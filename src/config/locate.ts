import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { UsageError } from "../util/errors.ts";

type Env = Record<string, string | undefined>;

export interface Located {
  configFile: string;
  root: string;
}

/**
 * Where backup.yaml is: --config, $TOOLS_BACKUP_CONFIG, ./backup.yaml, then
 * $XDG_CONFIG_HOME/tools/backup.yaml. `found` is false only for that last, default place.
 */
export function locateConfig(
  opts: { config?: string; root?: string },
  env: Env = process.env,
  cwd: string = process.cwd(),
  home: string = os.homedir(),
): { configFile: string; found: boolean } {
  // A path the user named must exist: silently falling back would read some other config.
  const explicit = nonEmpty(opts.config) ?? nonEmpty(env.TOOLS_BACKUP_CONFIG);
  if (explicit !== undefined) {
    const configFile = path.resolve(cwd, explicit);
    if (!fs.existsSync(configFile)) throw new UsageError(`config file not found: ${configFile}`);
    return { configFile, found: true };
  }
  const local = path.resolve(cwd, "backup.yaml");
  if (fs.existsSync(local)) return { configFile: local, found: true };
  const configFile = path.join(toolsConfigDir(env, home), "backup.yaml");
  return { configFile, found: fs.existsSync(configFile) };
}

/** $XDG_CONFIG_HOME/tools (~/.config/tools): backup.yaml's default place, and the new key's. */
export function toolsConfigDir(env: Env = process.env, home: string = os.homedir()): string {
  // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
  const xdg = nonEmpty(env.XDG_CONFIG_HOME);
  return path.resolve(xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(home, ".config"), "tools");
}

/** Where `key generate` and the settings screen write a new identity unless told otherwise. */
export const defaultKeyFile = (env: Env = process.env, home: string = os.homedir()): string =>
  path.join(toolsConfigDir(env, home), "backup.key");

/** The tools root (holding services/): --root, $TOOLS_ROOT, the folder of backup.yaml if it has services/, else cwd. */
export function locateRoot(
  opts: { root?: string },
  configFile: string | undefined,
  env: Env = process.env,
  cwd: string = process.cwd(),
): string {
  const explicit = nonEmpty(opts.root) ?? nonEmpty(env.TOOLS_ROOT);
  if (explicit !== undefined) {
    const root = path.resolve(cwd, explicit);
    if (!isDirectory(root)) throw new UsageError(`root folder not found: ${root}`);
    return root;
  }
  if (configFile !== undefined) {
    const beside = path.dirname(path.resolve(cwd, configFile));
    if (isDirectory(path.join(beside, "services"))) return beside;
  }
  return path.resolve(cwd);
}

// An empty variable (TOOLS_ROOT= tools-backup ...) means "not set", as in most CLIs.
function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}
