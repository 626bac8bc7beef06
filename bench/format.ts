/** Human units for the table and the progress lines; the JSON keeps raw numbers. */
export function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return "–";
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  return `${(ms / 1000).toFixed(ms < 100_000 ? 2 : 0)} s`;
}

export function fmtBytes(n: number | undefined): string {
  if (n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 || v >= 100 ? 0 : 1)} ${units[u]}`;
}

export const fmtKiB = (kib: number | undefined) => (kib === undefined ? "–" : fmtBytes(kib * 1024));

export const fmtRatio = (r: number | undefined) => (r === undefined ? "–" : `${r.toFixed(2)}×`);

/** Data bytes per second of wall time: how fast the volume's content went through. */
export function fmtRate(bytes: number, ms: number | undefined): string {
  if (ms === undefined || ms <= 0) return "–";
  return `${(bytes / (1024 * 1024) / (ms / 1000)).toFixed(0)} MiB/s`;
}
