/** Where a run's outcome is told. Secrets are never held here: a password is read from its file when sent. */
export type NotifyTarget = NtfyTarget | HealthchecksTarget | WebhookTarget | EmailTarget;

export const EVENTS = ["failure", "success", "stale"] as const;
export type EventKind = (typeof EVENTS)[number];

interface TargetBase {
  /** What messages call it: kind and host only, never a path, user, token or query (they may be secrets). */
  label: string;
  /** Which events it gets (a Healthchecks URL gets every run's start and end whatever this says). */
  on: EventKind[];
  /** A file holding the password or token, read when a message is sent. */
  passwordFile?: string;
}

/** ntfy: a POST of the text to https://HOST/TOPIC. */
export interface NtfyTarget extends TargetBase {
  kind: "ntfy";
  url: string;
  user?: string;
}

/** Healthchecks-style pings: URL/start, then URL/<exit code> with the log tail. */
export interface HealthchecksTarget extends TargetBase {
  kind: "healthchecks";
  url: string;
}

/** A JSON POST of the event. */
export interface WebhookTarget extends TargetBase {
  kind: "generic";
  url: string;
}

export interface EmailTarget extends TargetBase {
  kind: "smtp";
  host: string;
  port: number;
  user?: string;
  from: string;
  to: string[];
  /** "auto": TLS on port 465, else STARTTLS when offered; "none" only for a relay on this machine. */
  encryption: "auto" | "implicit" | "starttls" | "none";
}
