import type { Loaded } from "../commands/_shared.ts";
import { loadBackupConfig } from "../config/backup-config.ts";
import { locateConfig, locateRoot } from "../config/locate.ts";
import { hostName, stateDir, stopTimeout, type Reporter, type RunContext } from "../app/context.ts";
import { interrupt } from "../terminal/interrupt.ts";

export interface ConfigArgs {
  config?: string;
  root?: string;
}

/** backup.yaml as every command finds it; without one, first-run setup writes it (undefined: cancelled). */
export async function openSession(args: ConfigArgs): Promise<Loaded | undefined> {
  const { configFile, found } = locateConfig(args);
  if (found) return { config: loadBackupConfig(configFile), root: locateRoot(args, configFile) };
  const { firstRunSetup } = await import("./setup.ts");
  return firstRunSetup(args, configFile);
}

/** The same RunContext the commands build, with the screens' reporter and the same SIGINT handling. */
export function tuiContext(loaded: Loaded, reporter: Reporter): RunContext {
  return { ...loaded, host: hostName(), stateDir: stateDir(), signal: interrupt.signal, reporter, stopTimeout: stopTimeout() };
}
