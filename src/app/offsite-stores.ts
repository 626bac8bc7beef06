import type { BackupConfig } from "../config/backup-config.ts";
import { ConfigError } from "../config/config-error.ts";
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

/**
 * One store per copy; a copy whose keys cannot be found fails here, before anything is done, as
 * the configuration error it is, at the copy's entry in backup.yaml.
 */
export async function openCopies(copies: OffsiteCopy[]): Promise<OpenCopy[]> {
  return Promise.all(
    copies.map(async (copy) => {
      try {
        return { copy, store: await openStore(copy) };
      } catch (e) {
        if (!(e instanceof UsageError) || e instanceof ConfigError) throw e;
        const { line, col } = copy.at;
        throw new ConfigError({ file: copy.file, line, col, keyPath: `offsite.${copy.name}`, text: e.message });
      }
    }),
  );
}
