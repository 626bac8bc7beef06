import { defineCommand } from "citty";
import { openingKeys } from "../app/archive-sealing.ts";
import { problemText, readCatalog } from "../app/catalog.ts";
import { readRemoteCatalog } from "../app/offsite-catalog.ts";
import { chosenCopies, type OpenCopy, openCopies } from "../app/offsite-stores.ts";
import { verifyRemote } from "../app/offsite-verify.ts";
import { verifyArchive } from "../archive/verify.ts";
import type { BackupConfig } from "../config/backup-config.ts";
import type { OpeningKeys } from "../encryption/age-header.ts";
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
    offsite: {
      type: "string",
      valueHint: "NAME",
      description: "check this offsite copy instead: each archive read back, its size and sha256",
    },
    deep: {
      type: "boolean",
      description: "also decrypt encrypted archives and read them to the end (needs the identity or passphrase)",
    },
    ...configArgs,
    ...jsonArg,
  },
  async run({ args }) {
    const session = loadConfig(args);
    const { config } = session;
    const service = await serviceFilter(session, args);
    if (args.offsite !== undefined && args.deep)
      throw new UsageError("--deep reads the archives in backup_dir; --offsite checks each copy's size and sha256");
    if (args.offsite !== undefined) return verifyCopy(config, args.offsite, service, args.from, Boolean(args.json));
    let { backups, problems, copies, unreadable } = await readCatalog(config.backupDir, service);
    for (const u of unreadable) logger.warn(u);
    if (args.from) {
      // Only that backup: other files' problems are not its problems.
      backups = backups.filter((b) => b.id === args.from);
      problems = problems.filter((p) => p.id === args.from);
      if (backups.length + problems.length === 0) throw noSuchId(args.from, service);
    }
    for (const c of args.from ? [] : copies) logger.info(c);
    for (const p of problems) logger.error(problemText(p));
    const report: Report = problems.map((p) => ({ id: p.id, file: p.file, ok: false, problems: [p.reason] }));
    const keys = args.deep ? deepKeys(config) : undefined;
    for (const b of backups) {
      const r = await verifyArchive(b.file, b.manifest, { signal: interrupt.signal, keys });
      report.push({ id: b.id, file: b.file, ok: r.ok, problems: r.problems, contents: r.contents });
      if (!r.ok) logger.error(`${b.file}: ${r.problems.join("; ")}`);
      else if (r.contents) logger.success(`${b.id}: ok`);
      else logger.success(`${b.id}: ok (encrypted: size and sha256 checked; --deep also decrypts and reads it)`);
    }
    finish(report, Boolean(args.json));
  },
});

type Report = { id: string; file: string; ok: boolean; problems: string[]; contents?: boolean }[];

/** `--deep` opens encrypted archives: without a key to do it, there is nothing deeper to check. */
function deepKeys(config: BackupConfig): OpeningKeys {
  const keys = openingKeys(config.encryption);
  if (keys.identities.length === 0 && keys.passphrase === undefined)
    throw new UsageError(`--deep needs encryption.identity or encryption.passphrase_file in ${config.file}`);
  return keys;
}

function finish(report: Report, json: boolean): void {
  if (json) printJson(report);
  const bad = report.filter((r) => !r.ok).length;
  if (bad > 0) throw new OperationError(`${count(bad, "backup")} failed verification`);
  if (report.length === 0) logger.info("no backups to verify");
}

const noSuchId = (id: string, service: string | undefined) =>
  new UsageError(`no backup with id "${id}"${service ? ` for ${service}` : ""}; see \`tools-backup list\``);

/** `verify --offsite NAME`: every archive of that copy streamed and checked against its manifest. */
async function verifyCopy(config: BackupConfig, name: string, service?: string, from?: string, json = false) {
  const [{ store }] = (await openCopies(chosenCopies(config, name))) as [OpenCopy];
  const catalog = await readRemoteCatalog(store, interrupt.signal, service);
  const backups = catalog.backups.filter((b) => from === undefined || b.id === from);
  const problems = catalog.problems.filter((p) => from === undefined || p.id === from);
  if (from !== undefined && backups.length + problems.length === 0) throw noSuchId(from, service);
  for (const p of problems) logger.error(problemText(p));
  const report: Report = problems.map((p) => ({ id: p.id, file: p.file, ok: false, problems: [p.reason] }));
  for (const b of backups) {
    const r = await verifyRemote(store, b, interrupt.signal);
    const file = `${store.where}${b.archiveKey}`;
    report.push({ id: b.id, file, ok: r.ok, problems: r.problems });
    if (r.ok) logger.success(`${name}: ${b.id}: ok`);
    else logger.error(`${name}: ${file}: ${r.problems.join("; ")}`);
  }
  finish(report, json);
}
