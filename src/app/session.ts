import { type BackupConfig, loadBackupConfig } from "../config/backup-config.ts";
import { locateConfig, locateRoot } from "../config/locate.ts";
import { hostName, type Reporter, type RunContext, stateDir, stopTimeout } from "./context.ts";

/** Where backup.yaml and services/ come from when not found the usual way (--config, --root). */
export interface ConfigArgs {
  config?: string;
  root?: string;
}

/** What every use case starts from: backup.yaml, loaded, and the folder holding services/. */
export interface Session {
  config: BackupConfig;
  root: string;
}

/**
 * backup.yaml as every front end finds it, loaded with its services root; without one, no
 * session, and the file it would be (the CLI refuses, the screens offer first-run setup).
 */
export function locateSession(args: ConfigArgs): { session?: Session; configFile: string } {
  const { configFile, found } = locateConfig(args);
  if (!found) return { configFile };
  const config = loadBackupConfig(configFile);
  return { session: { config, root: locateRoot(args, configFile) }, configFile };
}

/** One run of a use case: the session, this machine, and how the front end shows and stops it. */
export function runContext(session: Session, reporter: Reporter, signal: AbortSignal): RunContext {
  return { ...session, host: hostName(), stateDir: stateDir(), signal, reporter, stopTimeout: stopTimeout() };
}
