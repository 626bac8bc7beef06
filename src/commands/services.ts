import { defineCommand } from "citty";
import { describeServices, type ServiceDescription } from "../app/services-view.ts";
import { loadEnabledServices } from "../config/enabled-services.ts";
import { futureDatedWarning } from "../retention/future.ts";
import { logger } from "../terminal/log.ts";
import { writeOut } from "../terminal/stdout.ts";
import { OperationError } from "../util/errors.ts";
import { formatAge, formatBytes, table } from "../util/format.ts";
import { allServices, configArgs, jsonArg, loadConfig, printJson } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "services",
    description: "Show each service: its volumes and containers, whether it is enabled, its newest backup",
  },
  args: { ...configArgs, ...jsonArg },
  async run({ args }) {
    const session = loadConfig(args);
    const services = allServices(session);
    // An enabled name with no service behind it is a typo the nightly run would fail on.
    for (const { error } of loadEnabledServices(session.config, session.root).broken) logger.warn(error.message);
    const { rows, backupDirProblem, engineProblem, unreadable } = await describeServices(session.config, services);
    for (const u of unreadable) logger.warn(u);
    // The services themselves are still worth showing; their newest backup is unknown, not "never".
    if (backupDirProblem) logger.warn(`${backupDirProblem}; newest backups unknown`);
    for (const r of rows.filter((r) => r.dated_in_future.length > 0))
      logger.warn(futureDatedWarning(r.name, r.dated_in_future, "not shown as the newest backup"));
    // Still shown without Docker, volumes' existence unknown; the exit code says it failed.
    if (args.json) printJson(rows);
    else printTable(rows, backupDirProblem);
    if (engineProblem) throw new OperationError(engineProblem);
  },
});

function printTable(rows: ServiceDescription[], backupDirProblem: string | undefined): void {
  const text = rows.map((r) => [
    r.name,
    r.enabled ? "enabled" : "off",
    r.has_data ? r.volumes.map(volumeText).join(", ") : "no data to back up",
    r.containers.join(", ") || "-",
    r.newest
      ? `${formatAge(new Date(r.newest.created_at))}, ${formatBytes(r.newest.bytes)}`
      : backupDirProblem
        ? "unknown"
        : r.dated_in_future.length > 0
          ? "only dated in the future"
          : "never",
  ]);
  writeOut(table([["SERVICE", "BACKUP", "VOLUMES", "CONTAINERS", "NEWEST BACKUP"], ...text]) + "\n");
}

/** Existence null: Docker could not be asked, which is not "missing". */
function volumeText(v: ServiceDescription["volumes"][number]): string {
  return `${v.name}${v.exists === null ? " (unknown)" : v.exists ? "" : " (missing)"}`;
}
