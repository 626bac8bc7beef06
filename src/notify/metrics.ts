/**
 * The metrics file for node_exporter's textfile collector: per service, its last successful
 * backup and how many attempts failed. Written whole under a temporary name and renamed, so the
 * collector never reads half a file; readable by all (node_exporter runs as its own user), since
 * it holds no secret.
 */
import { open, rename, rm } from "node:fs/promises";
import { tempPathFor } from "../util/fs-safe.ts";

export interface ServiceMetrics {
  service: string;
  /** The last run's attempt succeeded. */
  lastOk: boolean;
  lastSuccess?: { at: string; bytes: number; durationMs: number; downtimeMs: number };
  failures: number;
}

const METRICS = [
  ["last_success_timestamp_seconds", "gauge", "When the last successful backup finished (Unix time)."],
  ["last_success_size_bytes", "gauge", "Size of the last successful backup's archive."],
  ["last_success_duration_seconds", "gauge", "How long the last successful backup took."],
  ["last_success_downtime_seconds", "gauge", "How long the containers were stopped for the last successful backup."],
  ["last_run_success", "gauge", "1 when the last backup attempt succeeded, else 0."],
  ["failures_total", "counter", "Backup attempts that failed."],
] as const;

type Name = (typeof METRICS)[number][0];

function valuesOf(m: ServiceMetrics): Partial<Record<Name, number>> {
  const s = m.lastSuccess;
  return {
    ...(s && {
      last_success_timestamp_seconds: Date.parse(s.at) / 1000,
      last_success_size_bytes: s.bytes,
      last_success_duration_seconds: s.durationMs / 1000,
      last_success_downtime_seconds: s.downtimeMs / 1000,
    }),
    last_run_success: m.lastOk ? 1 : 0,
    failures_total: m.failures,
  };
}

/** Prometheus text format 0.0.4. Service names are [a-z0-9_.-], so no label value needs escaping. */
export function metricsText(services: ServiceMetrics[]): string {
  const lines: string[] = [];
  for (const [name, type, help] of METRICS) {
    const full = `tools_backup_${name}`;
    lines.push(`# HELP ${full} ${help}`, `# TYPE ${full} ${type}`);
    for (const m of services) {
      const value = valuesOf(m)[name];
      if (value !== undefined) lines.push(`${full}{service="${m.service}"} ${value}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export async function writeMetricsFile(file: string, text: string): Promise<void> {
  const tmp = tempPathFor(file);
  try {
    const fh = await open(tmp, "w", 0o644);
    try {
      await fh.writeFile(text);
      await fh.chmod(0o644);
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
