/**
 * What one measurement yields and how repetitions are summarised: the median, because a shared
 * machine produces occasional slow outliers that would drag a mean.
 */
export interface Sample {
  wallMs: number;
  /** die -> start of the app container, from docker events; undefined where nothing is stopped. */
  downtimeMs?: number;
  archiveBytes?: number;
  peakKiB?: number;
  /** What the product wrote into its manifest as downtime_ms, to compare with the engine's view. */
  selfDowntimeMs?: number;
  /** User + system CPU of the measured process and the children it waited for (the docker CLI). */
  cpuMs?: number;
  /** CPU of dockerd and containerd meanwhile (docker-cpu.ts). */
  dockerCpuMs?: number;
  /** Offsite: the upload alone (measure-offsite.ts says from when to when). */
  uploadMs?: number;
  /** Offsite: CPU of the S3 server meanwhile. */
  serverCpuMs?: number;
  /** Offsite restore: the fetch alone, as the binary reports it. */
  fetchMs?: number;
}

export type Field = keyof Sample;
export const FIELDS: Field[] = [
  "wallMs",
  "downtimeMs",
  "archiveBytes",
  "peakKiB",
  "selfDowntimeMs",
  "cpuMs",
  "dockerCpuMs",
  "uploadMs",
  "serverCpuMs",
  "fetchMs",
];

export interface MethodResult {
  id: string;
  label: string;
  samples: Sample[];
  median: Partial<Sample>;
}

export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarise(id: string, label: string, samples: Sample[]): MethodResult {
  const m: Partial<Sample> = {};
  for (const f of FIELDS) {
    const v = median(samples.flatMap((s) => (s[f] === undefined ? [] : [s[f]!])));
    if (v !== undefined) m[f] = v;
  }
  return { id, label, samples, median: m };
}

/** ours / other, or undefined when either side is missing or zero. */
export function ratio(ours: number | undefined, other: number | undefined): number | undefined {
  return ours === undefined || other === undefined || other === 0 ? undefined : ours / other;
}
