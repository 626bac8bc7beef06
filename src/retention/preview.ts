/** What a calendar policy keeps of a year of nightly backups, in one line, for the settings screen. */
import { type CalendarPolicy, keepByCalendar } from "./calendar.ts";

const DAY = 86_400_000;

export function yearPreview(policy: CalendarPolicy, now = new Date()): string {
  const nights = Array.from({ length: 365 }, (_, i) => new Date(now.getTime() - i * DAY));
  const kept = keepByCalendar(nights, policy, now)
    .map((why, i) => (why.length > 0 ? i : -1))
    .filter((i) => i >= 0);
  const oldest = kept.at(-1) ?? 0;
  const age = oldest >= 60 ? `${Math.round(oldest / 30.4)} months` : `${oldest} days`;
  return `a year of nightly backups: ${kept.length} kept, the oldest ${age} old`;
}
