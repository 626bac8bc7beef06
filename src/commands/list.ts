import { defineCommand } from "citty";
import { readAllBackups } from "../app/all-backups.ts";
import { type Backup, LOCAL, problemText, readCatalog } from "../app/catalog.ts";
import { archivePath, backupById, type ContentEntry, listContents } from "../app/contents.ts";
import { hostName } from "../app/context.ts";
import type { Session } from "../app/session.ts";
import type { BackupConfig } from "../config/backup-config.ts";
import { planRetention } from "../retention/plan.ts";
import { interrupt } from "../terminal/interrupt.ts";
import { logger } from "../terminal/log.ts";
import { writeOut } from "../terminal/stdout.ts";
import { OperationError, UsageError } from "../util/errors.ts";
import { formatAge, formatBytes, formatLocal, table } from "../util/format.ts";
import { configArgs, jsonArg, loadConfig, positionals, printJson, serviceFilter, serviceFilterArg } from "./_shared.ts";

/** What retention makes of a backup in backup_dir: kept (and by which rules) or not; null elsewhere. */
type Retention = { kept: boolean; why: string } | null;

export function backupJson(b: Backup, retention: Retention = null) {
  return {
    id: b.id,
    service: b.service,
    created_at: b.createdAt.toISOString(),
    host: b.host,
    bytes: b.bytes,
    // Only what exists here: a backup that is only offsite has no local file yet.
    file: b.locations.includes(LOCAL) ? b.file : null,
    manifest: b.locations.includes(LOCAL) ? b.manifestFile : null,
    locations: b.locations,
    volumes: b.manifest.volumes.map((v) => v.name),
    kind: b.kind,
    complete: b.complete,
    encrypted: b.manifest.archive.encryption !== undefined,
    retention,
  };
}

/** Retention's plan for backup_dir as `prune` would make it now, to say which backups it keeps. */
function retentionOf(config: BackupConfig, backups: Backup[]): (b: Backup) => Retention {
  const plan = planRetention(
    backups.filter((b) => b.locations.includes(LOCAL)),
    config.retention,
    hostName(),
    new Date(),
  );
  const kept = new Set(plan.keep.map((b) => b.id));
  return (b) => (b.locations.includes(LOCAL) ? { kept: kept.has(b.id), why: plan.reasons.get(b.id) ?? "" } : null);
}

export default defineCommand({
  meta: {
    name: "list",
    description: "List backups in backup_dir and the offsite copies, newest first (every host's)",
  },
  args: {
    ...serviceFilterArg,
    offsite: { type: "string", valueHint: "NAME", description: "only the backups in this offsite copy" },
    contents: {
      type: "string",
      valueHint: "ID",
      description: "the files in this backup, read without extracting (SERVICE is then a path <volume>/<path> to show)",
    },
    ...configArgs,
    ...jsonArg,
  },
  async run({ args }) {
    const session = loadConfig(args);
    const words = positionals(args);
    if (args.contents !== undefined) return listContentsOf(session, args.contents, words, Boolean(args.json));
    const { config } = session;
    const service = await serviceFilter(session, args);
    const only = args.offsite;
    const found = await readAllBackups(config, interrupt.signal, { service, only });
    const { backups, problems, copies, unreadable, unreachable } = found;
    for (const u of unreadable) logger.warn(u);
    for (const p of problems) logger.warn(problemText(p));
    for (const c of copies) logger.info(c);
    for (const u of unreachable) logger.error(`${u}; its backups are not in this list`);
    const unlisted = () => {
      if (unreachable.length > 0)
        throw new OperationError(`the list lacks what ${unreachable.length} unreachable offsite copies hold`);
    };
    if (args.json) {
      const retention = retentionOf(config, backups);
      printJson(backups.map((b) => backupJson(b, retention(b))));
      return unlisted();
    }
    if (backups.length === 0) {
      logger.info(`no backups in ${only ?? config.backupDir}${service ? ` for ${service}` : ""}`);
      return unlisted();
    }
    const rows = backups.map((b) => [
      b.id,
      b.service,
      `${formatLocal(b.createdAt)} (${formatAge(b.createdAt)})`,
      b.host,
      formatBytes(b.bytes) + (b.complete ? "" : " (incomplete)"),
      b.manifest.volumes.map((v) => v.name).join(","),
      b.kind,
      b.locations.join(",") || "-",
    ]);
    writeOut(table([["ID", "SERVICE", "CREATED", "HOST", "SIZE", "VOLUMES", "KIND", "WHERE"], ...rows]) + "\n");
    unlisted();
  },
});

/** `list --contents ID [PATH]`: the archive's entries, read (and checked) without extracting. */
async function listContentsOf(session: Session, id: string, words: string[], json: boolean) {
  if (words.length > 1) throw new UsageError(`list --contents takes one path, not ${words.join(", ")}`);
  const path = words[0] === undefined ? undefined : archivePath(words[0]);
  const { backups, unreadable } = await readCatalog(session.config.backupDir);
  for (const u of unreadable) logger.warn(u);
  const entries = await listContents(session.config, backupById(backups, id), path, interrupt.signal);
  if (json) return printJson(entries.map(entryJson));
  const row = (e: ContentEntry) => [modeText(e), `${e.uid}:${e.gid}`, `${e.size}`, timeText(e.mtime), pathText(e)];
  writeOut(table([["MODE", "OWNER", "SIZE", "MTIME", "PATH"], ...entries.map(row)]) + "\n");
}

function entryJson(e: ContentEntry) {
  const { path, type, size, uid, gid, link } = e;
  const mode = e.mode.toString(8).padStart(4, "0");
  return { path, type, size, mode, uid, gid, mtime: e.mtime.toISOString(), ...(link === undefined ? {} : { link }) };
}

/** As `tar -tv` marks them; a hard link is "h", its target named after the path. */
const TYPE_CHAR: Partial<Record<ContentEntry["type"], string>> = {
  directory: "d",
  symlink: "l",
  hardlink: "h",
  char: "c",
  block: "b",
  fifo: "p",
};

/** `ls -l`'s form: type, then rwx for owner, group and others with setuid, setgid and sticky. */
function modeText(e: ContentEntry): string {
  const bits = ["r", "w", "x", "r", "w", "x", "r", "w", "x"].map((c, i) => (e.mode & (0o400 >> i) ? c : "-"));
  const special: [number, number, string][] = [
    [0o4000, 2, "s"],
    [0o2000, 5, "s"],
    [0o1000, 8, "t"],
  ];
  for (const [bit, at, c] of special) if (e.mode & bit) bits[at] = bits[at] === "x" ? c : c.toUpperCase();
  return (TYPE_CHAR[e.type] ?? "-") + bits.join("");
}

function pathText(e: ContentEntry): string {
  if (e.type === "symlink") return `${e.path} -> ${e.link}`;
  return e.type === "hardlink" ? `${e.path} link to ${e.link}` : e.path;
}

/** Seconds matter here (which version of a file is this?), unlike in a list of backups. */
function timeText(d: Date): string {
  return `${formatLocal(d)}:${String(d.getSeconds()).padStart(2, "0")}`;
}
