import type { BackupConfig } from "../config/backup-config.ts";
import { messageOf } from "../util/errors.ts";
import { backupDirProblem } from "./backup-dir.ts";
import { type Backup, type Catalog, readCatalog } from "./catalog.ts";
import { mergeCopies, readRemoteCatalog } from "./offsite-catalog.ts";
import { chosenCopies, openCopies } from "./offsite-stores.ts";

/** Every backup wherever it is, and what could not be read. */
export interface AllBackups extends Omit<Catalog, "backups"> {
  backups: Backup[];
  /** Offsite copies that could not be listed, each with why: their backups are missing from the list. */
  unreachable: string[];
}

/**
 * backup_dir and each offsite copy merged (`only`: that copy alone). With offsite copies, a
 * backup_dir that does not exist yet (a new machine) is said and the copies listed; without
 * any, it is the error it always was: an unmounted drive must not read as "no backups".
 */
export async function readAllBackups(
  config: BackupConfig,
  signal: AbortSignal,
  opts: { service?: string; only?: string } = {},
): Promise<AllBackups> {
  const copies = await openCopies(chosenCopies(config, opts.only));
  const dirProblem = config.offsite.length > 0 ? await backupDirProblem(config.backupDir) : undefined;
  const local: Catalog =
    opts.only !== undefined || dirProblem
      ? {
          backups: [],
          problems: [],
          copies: [],
          unreadable: dirProblem ? [`${dirProblem}; listing offsite copies`] : [],
        }
      : await readCatalog(config.backupDir, opts.service);
  const unreachable: string[] = [];
  const remotes = await Promise.all(
    copies.map(({ store }) =>
      readRemoteCatalog(store, signal, opts.service).catch((e) => {
        if (signal.aborted) throw e;
        unreachable.push(messageOf(e));
        return undefined;
      }),
    ),
  );
  const found = remotes.filter((r) => r !== undefined);
  return {
    ...local,
    problems: [...local.problems, ...found.flatMap((r) => r.problems)],
    backups: mergeCopies(opts.only === undefined ? local : undefined, found, config.backupDir),
    unreachable,
  };
}
