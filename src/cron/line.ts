/**
 * The crontab line: `<schedule> VAR='…' '<self>' backup --cron --config '<file>' >> '<log>' 2>&1`.
 * Every value is single-quoted for /bin/sh, and `%` (a newline to cron) is escaped.
 */
export interface CronLine {
  schedule: string;
  env: Record<string, string>;
  command: string[];
  log: string;
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function formatCronLine(l: CronLine): string {
  const env = Object.entries(l.env).map(([k, v]) => `${k}=${shellQuote(v)}`);
  const words = [...env, ...l.command.map(shellQuote), ">>", shellQuote(l.log), "2>&1"];
  return `${l.schedule} ${words.join(" ").replace(/%/g, "\\%")}`;
}

/** Splits what formatCronLine wrote back into words (single quotes and bare words only). */
function words(text: string): string[] {
  const out: string[] = [];
  const re = /\s*((?:'[^']*'|\\.|[^\s'\\])+)/gy;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push(m[1]!.replace(/'([^']*)'|\\(.)/g, (_all, q: string | undefined, e: string | undefined) => q ?? e ?? ""));
  }
  return out;
}

export function parseCronLine(line: string): CronLine | undefined {
  const trimmed = line.trim();
  const n = trimmed.startsWith("@") ? 1 : 5;
  const schedule = trimmed.split(/\s+/).slice(0, n).join(" ");
  const w = words(trimmed.replace(new RegExp(`^(\\S+\\s+){${n}}`), "").replace(/\\%/g, "%"));
  const env: Record<string, string> = {};
  while (w[0] && /^[A-Z_][A-Z0-9_]*=/.test(w[0])) {
    const [k, ...v] = w.shift()!.split("=");
    env[k!] = v.join("=");
  }
  const redirect = w.indexOf(">>");
  if (redirect < 1) return undefined;
  return { schedule, env, command: w.slice(0, redirect), log: w[redirect + 1] ?? "" };
}
