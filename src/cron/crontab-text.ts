/**
 * Editing a crontab as text: this tool's entry is a marker comment plus the line after it.
 * Every other line, comment and blank stays byte for byte as it was.
 */
export const MARKER =
  "# tools-backup: scheduled backup (managed by `tools-backup cron`; edit with `tools-backup cron install`)";

export interface Entry {
  index: number;
  line: string;
}

export function findEntry(crontab: string): Entry | undefined {
  const lines = crontab.split("\n");
  const i = lines.indexOf(MARKER);
  if (i < 0 || i + 1 >= lines.length) return undefined;
  return { index: i, line: lines[i + 1]! };
}

export function withoutEntry(crontab: string): string {
  const lines = crontab.split("\n");
  const i = lines.indexOf(MARKER);
  if (i < 0) return crontab;
  lines.splice(i, i + 1 < lines.length ? 2 : 1);
  return lines.join("\n");
}

/** Replaces this tool's entry in place, or appends it; the result ends with a newline, as cron requires. */
export function withEntry(crontab: string, line: string): string {
  const lines = crontab.split("\n");
  const i = lines.indexOf(MARKER);
  if (i >= 0) {
    lines.splice(i, i + 1 < lines.length ? 2 : 1, MARKER, line);
    return lines.join("\n");
  }
  const base = crontab === "" || crontab.endsWith("\n") ? crontab : `${crontab}\n`;
  return `${base}${MARKER}\n${line}\n`;
}
