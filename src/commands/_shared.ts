import type { ArgsDef } from "citty";
import { requireKnownService } from "../app/catalog.ts";
import type { RunContext } from "../app/context.ts";
import { type ConfigArgs, locateSession, runContext, type Session } from "../app/session.ts";
import { SERVICE_NAME } from "../archive/naming.ts";
import { type EnabledServices, loadEnabledServices } from "../config/enabled-services.ts";
import { loadService, loadServices, type Service } from "../config/service-config.ts";
import { interrupt } from "../terminal/interrupt.ts";
import { writeOut } from "../terminal/stdout.ts";
import { UsageError } from "../util/errors.ts";
import { cliReporter } from "./reporter.ts";

export const configArgs = {
  config: {
    type: "string",
    description:
      "backup.yaml to use (default: $TOOLS_BACKUP_CONFIG, ./backup.yaml, then $XDG_CONFIG_HOME/tools/backup.yaml)",
    valueHint: "FILE",
  },
  root: {
    type: "string",
    description:
      "folder holding services/ " +
      "(default: $TOOLS_ROOT, next to backup.yaml when it has services/, else the current folder)",
    valueHint: "DIR",
  },
  debug: { type: "boolean", description: "show stack traces of unexpected errors" },
} as const satisfies ArgsDef;

export const serviceFilterArg = {
  service: { type: "positional", required: false, description: "only this service's backups", valueHint: "SERVICE" },
} as const satisfies ArgsDef;

/** The optional SERVICE of list and verify, checked like every name that becomes a path. */
export async function serviceFilter(session: Session, args: { _: string[] }): Promise<string | undefined> {
  const [service] = positionals(args);
  if (service === undefined) return undefined;
  if (!SERVICE_NAME.test(service)) throw new UsageError(`invalid service name "${service}"`);
  await requireKnownService(session.root, session.config.backupDir, service);
  return service;
}

export const jsonArg = {
  json: { type: "boolean", description: "print JSON on stdout (messages stay on stderr)" },
} as const satisfies ArgsDef;

export function loadConfig(args: ConfigArgs): Session {
  const { session, configFile } = locateSession(args);
  if (!session) {
    const hint = "copy backup.yaml.example to backup.yaml, or pass --config FILE";
    throw new UsageError(`no backup.yaml found (looked at ${configFile} and the usual places); ${hint}`);
  }
  return session;
}

export function context(session: Session): RunContext {
  return runContext(session, cliReporter(), interrupt.signal);
}

/**
 * The named services (any problem stops the run before it starts), or every enabled one, where
 * an unknown or broken entry fails alone.
 */
export function selectServices(session: Session, names: string[]): EnabledServices {
  if (names.length > 0) return { services: [...new Set(names)].map((n) => loadService(session.root, n)), broken: [] };
  if (!Object.values(session.config.services).some(Boolean)) {
    throw new UsageError(
      `no service is enabled in ${session.config.file} (add "services: { name: true }") and none was named`,
    );
  }
  return loadEnabledServices(session.config, session.root);
}

export function allServices(session: Session): Service[] {
  return loadServices(session.root);
}

export function printJson(value: unknown): void {
  writeOut(JSON.stringify(value, null, 2) + "\n");
}

/** Positional words after the command (citty keeps them in `_`). */
export function positionals(args: { _: string[] }): string[] {
  return args._.map(String);
}
