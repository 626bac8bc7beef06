import { defineCommand } from "citty";
import { problemText, readCatalog } from "../app/catalog.ts";
import { verifyArchive } from "../archive/verify.ts";
import { interrupt } from "../terminal/interrupt.ts";
import { logger } from "../terminal/log.ts";
import { OperationError, UsageError } from "../util/errors.ts";
import { count } from "../util/format.ts";
import { configArgs, jsonArg, loadConfig, printJson, serviceFilter, serviceFilterArg } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "verify",
    description: "Check archives against their manifests: sha256, size, and a full read to the end",
  },
  args: {
    ...serviceFilterArg,
    from: { type: "string", description: "only the backup with this id (as `list` shows it)", valueHint: "ID" },
    ...configArgs,
    ...jsonArg,
  },
  async run({ args }) {
    const session = loadConfig(args);
    const { config } = session;
    const service = await serviceFilter(session, args);
    let { backups, problems, copies, unreadable } = await readCatalog(config.backupDir, service);
    for (const u of unreadable) logger.warn(u);
    if (args.from) {
      // Only that backup: other files' problems are not its problems.
      backups = backups.filter((b) => b.id === args.from);
      problems = problems.filter((p) => p.id === args.from);
      if (backups.length + problems.length === 0)
        throw new UsageError(
          `no backup with id "${args.from}"${service ? ` for ${service}` : ""}; see \`tools-backup list\``,
        );
    }
    for (const c of args.from ? [] : copies) logger.info(c);
    for (const p of problems) logger.error(problemText(p));
    const report = problems.map((p) => ({ id: p.id, file: p.file, ok: false, problems: [p.reason] }));
    for (const b of backups) {
      const r = await verifyArchive(b.file, b.manifest, { signal: interrupt.signal });
      report.push({ id: b.id, file: b.file, ok: r.ok, problems: r.problems });
      if (r.ok) logger.success(`${b.id}: ok`);
      else logger.error(`${b.file}: ${r.problems.join("; ")}`);
    }
    if (args.json) printJson(report);
    const bad = report.filter((r) => !r.ok).length;
    if (bad > 0) throw new OperationError(`${count(bad, "backup")} failed verification`);
    if (report.length === 0) logger.info("no backups to verify");
  },
});
