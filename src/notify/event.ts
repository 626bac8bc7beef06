import type { EventKind } from "../config/notify-target.ts";

/** One service's part of a run, as a notification tells it. */
export interface ServiceReport {
  service: string;
  ok: boolean;
  error?: string;
  bytes: number;
  durationMs: number;
  downtimeMs: number;
  /** The offsite copies it reached. */
  offsite: string[];
}

/** What a notification says; `text` is the run's log tail, in the words the terminal showed. */
export interface NotifyEvent {
  kind: EventKind | "test";
  title: string;
  text: string;
  host: string;
  at: string;
  /** The run's exit code (Healthchecks records it); absent for `stale` and `test`. */
  exitCode?: number;
  services: ServiceReport[];
}

/** The JSON a webhook receives: the event as it is, with a format version for whoever parses it. */
export function eventJson(event: NotifyEvent): string {
  return JSON.stringify({ version: 1, source: "tools-backup", ...event });
}
