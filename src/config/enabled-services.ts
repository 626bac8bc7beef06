import { UsageError } from "../util/errors.ts";
import type { BackupConfig } from "./backup-config.ts";
import { ConfigError } from "./config-error.ts";
import { formatKeyPath } from "./schema-errors.ts";
import { loadService, type Service } from "./service-config.ts";

export interface EnabledServices {
  services: Service[];
  /** Enabled entries that could not be read: each fails on its own, the others still run. */
  broken: { service: string; error: UsageError }[];
}

/**
 * Every service enabled in backup.yaml. One unknown name or broken service.yaml must not cost
 * the nightly run the other services, so each problem is kept for its entry. An unknown name
 * is reported where backup.yaml enables it; a broken file where the mistake is in it.
 */
export function loadEnabledServices(config: BackupConfig, root: string): EnabledServices {
  const result: EnabledServices = { services: [], broken: [] };
  for (const [name, on] of Object.entries(config.services)) {
    if (!on) continue;
    try {
      result.services.push(loadService(root, name));
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      result.broken.push({ service: name, error: error instanceof ConfigError ? error : atEntry(config, name, error) });
    }
  }
  return result;
}

function atEntry(config: BackupConfig, name: string, error: UsageError): ConfigError {
  const keyPath = formatKeyPath(["services", name]);
  const { line, col } = config.serviceAt[name] ?? { line: 1, col: 1 };
  return new ConfigError({ file: config.file, line, col, keyPath, text: `${keyPath}: ${error.message}` });
}
