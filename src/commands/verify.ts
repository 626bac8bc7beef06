import { defineCommand } from "citty";
import { configArgs, jsonArg, loadConfig, printJson, serviceFilter, serviceFilterArg } from "./_shared.ts";
import { readCatalog } from "../engine/catalog.ts";
import { verifyArchive } from "../archive/verify.ts";
import { OperationError, UsageError } from "../errors.ts";
import { logger } from "../cli/log.ts";
import { interrupt } from "../cli/interrupt.ts";

export default defineCommand({
  meta: { name: "verify", description: "Check archives against their manifests: sha256, size, and a full read to the end" },
  args: {
    ...serviceFilterArg,
    from: { type: "string", description: "only the backup with this id (as `list` shows it)", valueHint: "ID" },
    ...configArgs,
    ...jsonArg,
  },
  async run({ args }) {
    const loaded = loadConfig(args);
    const { config } = loaded;
    const service = await serviceFilter(loaded, args);
    let { backups, problems } = await readCatalog(config.backupDir, service);
    if (args.from) {
      backups = backups.filter((b) => b.id === args.from);
      if (backups.length === 0) throw new UsageError(`no backup with id "${args.from}"${service ? ` for ${service}` : ""}; see \`tools-backup list\``);
    }
    for (const p of problems) logger.error(p);
    const report = [];
    for (const b of backups) {
      const r = await verifyArchive(b.file, b.manifest, { signal: interrupt.signal });
      report.push({ id: b.id, file: b.file, ok: r.ok, problems: r.problems });
      if (r.ok) logger.success(`${b.id}: ok`);
      else logger.error(`${b.file}: ${r.problems.join("; ")}`);
    }
    if (args.json) printJson(report);
    const bad = report.filter((r) => !r.ok).length + (args.from ? 0 : problems.length);
    if (bad > 0) throw new OperationError(`${bad} backup${bad === 1 ? "" : "s"} failed verification`);
    if (report.length === 0) logger.info("no backups to verify");
  },
});
