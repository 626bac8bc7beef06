import type { BackupConfig } from "../config/backup-config.ts";
import type { OffsiteCopy } from "../config/offsite-config.ts";
import { openStore } from "../offsite/open.ts";
import type { Store } from "../offsite/store.ts";
import { UsageError } from "../util/errors.ts";

/** The copies `--offsite NAME` means: that one, or every one when no name is given. */
export function chosenCopies(config: BackupConfig, only?: string): OffsiteCopy[] {
  if (only === undefined) return config.offsite;
  const names = config.offsite.map((c) => c.name);
  const copy = config.offsite.find((c) => c.name === only);
  if (copy) return [copy];
  const known = names.length > 0 ? `the offsite copies are ${names.join(", ")}` : "it has no offsite copies";
  throw new UsageError(`--offsite ${only}: no such copy in ${config.file} (${known})`);
}

export interface OpenCopy {
  copy: OffsiteCopy;
  store: Store;
}

/** One store per copy; a copy whose keys cannot be found fails here, before anything is done. */
export async function openCopies(copies: OffsiteCopy[]): Promise<OpenCopy[]> {
  return Promise.all(copies.map(async (copy) => ({ copy, store: await openStore(copy) })));
}
