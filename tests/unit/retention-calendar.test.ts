/**
 * The calendar retention's own rules, where the restic oracle (0.14) cannot speak: the short
 * series, keep_within's anchor, ISO weeks at year ends and DST days in Europe/Berlin, ties, and
 * what the planner keeps around the calendar (safety backups, other hosts); and the config errors.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { backupId } from "../../src/archive/naming.ts";
import { loadBackupConfig } from "../../src/config/backup-config.ts";
import { ConfigError } from "../../src/config/config-error.ts";
import { type CalendarPolicy, keepByCalendar } from "../../src/retention/calendar.ts";
import { planRetention, type RetentionEntry } from "../../src/retention/plan.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const HOST = "myhost";
const NONE = { last: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 };

const savedTz = process.env.TZ;
beforeAll(() => {
  process.env.TZ = "Europe/Berlin";
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

/** A Berlin wall time (the zone the test runs in) as a Date. */
const at = (text: string) => new Date(text.replace(" ", "T"));
const rules = (times: Date[], policy: Partial<CalendarPolicy>, now = new Date(Date.UTC(2030, 0, 1))) =>
  keepByCalendar(times, { ...NONE, ...policy }, now);

describe("keepByCalendar", () => {
  test("a short series keeps the oldest backup too, and says why", () => {
    const times = ["2026-12-03 10:00", "2026-12-03 08:00", "2026-12-02 10:00", "2026-12-01 10:00", "2026-12-01 08:00"];
    expect(rules(times.map(at), { daily: 7 })).toEqual([
      ["daily 2026-12-03"],
      [],
      ["daily 2026-12-02"],
      ["daily 2026-12-01"],
      ["daily 2026-12-01 (the oldest: fewer daily periods than kept)"],
    ]);
    // Full series (3 days asked, 3 present): the oldest goes like any other second backup of its day.
    expect(rules(times.map(at), { daily: 3 }).at(-1)).toEqual([]);
    // The oldest in a period of its own is kept by that period, no extra words.
    expect(rules(times.slice(0, 4).map(at), { daily: 7, monthly: 5 }).at(-1)).toEqual([
      "daily 2026-12-01",
      "monthly 2026-12 (the oldest: fewer monthly periods than kept)",
    ]);
  });

  test("keep_within counts from the newest backup not in the future, not from now", () => {
    const now = at("2026-12-20 12:00");
    const times = ["2027-01-05 00:00", "2026-12-10 12:00", "2026-12-09 13:00", "2026-12-08 11:00"].map(at);
    const within = { years: 0, months: 0, days: 2, hours: 0 };
    expect(rules(times, { within }, now)).toEqual([["within 2d"], ["within 2d"], ["within 2d"], []]);
    // An anchor 36 hours back: exactly 36 hours before it is not "within" (restic's After).
    const exact = rules(["2026-12-10 12:00", "2026-12-09 00:00"].map(at), {
      within: { ...within, days: 0, hours: 36 },
    });
    expect(exact).toEqual([["within 36h"], []]);
  });

  test("keep_within a month back into a doubled hour: the second 02:30, as Go's AddDate has it", () => {
    // A month before 2025-11-26 02:30 is 2025-10-26 02:30, which Berlin has twice: 00:30Z and 01:30Z.
    const utc = (h: number, m: number) => new Date(Date.UTC(2025, 9, 26, h, m));
    const times = [at("2025-11-26 02:30"), utc(1, 40), utc(1, 10), utc(0, 40)];
    const within = { years: 0, months: 1, days: 0, hours: 0 };
    expect(rules(times, { within })).toEqual([["within 1m"], ["within 1m"], [], []]);
    // Into the spring gap (2025-03-30 02:30 does not exist): 03:30 CEST, as in Go.
    const spring = [
      at("2025-04-30 02:30"),
      new Date(Date.UTC(2025, 2, 30, 1, 40)),
      new Date(Date.UTC(2025, 2, 30, 1, 20)),
    ];
    expect(rules(spring, { within })).toEqual([["within 1m"], ["within 1m"], []]);
  });

  test("keep_within when every backup is ahead of the clock: all are within, as restic has it", () => {
    const now = at("2026-12-10 12:00");
    const times = ["2026-12-10 12:20", "2026-12-10 12:10"].map(at);
    const within = { years: 0, months: 0, days: 7, hours: 0 };
    expect(rules(times, { within }, now)).toEqual([["within 7d"], ["within 7d"]]);
  });

  test("ISO weeks across year ends: 2026 has a week 53 that ends on 2027-01-03", () => {
    const times = ["2027-01-04 09:00", "2027-01-03 09:00", "2026-12-28 09:00", "2026-12-27 09:00", "2021-01-03 09:00"];
    expect(rules(times.map(at), { weekly: 4 }).map((r) => r[0])).toEqual([
      "weekly 2027-W01",
      "weekly 2026-W53",
      undefined,
      "weekly 2026-W52",
      "weekly 2020-W53",
    ]);
    // Monthly and yearly go by the calendar year, not the ISO one.
    expect(rules(["2027-01-01 00:30", "2026-12-31 23:30"].map(at), { yearly: 2 })).toEqual([
      ["yearly 2027"],
      ["yearly 2026"],
    ]);
  });

  test("DST days in Berlin: local days and hours, the doubled hour one period", () => {
    // 2026-10-25 02:30 happens twice (CEST, then CET); both are the same local hour.
    const first = new Date(Date.UTC(2026, 9, 25, 0, 30));
    const second = new Date(Date.UTC(2026, 9, 25, 1, 30));
    expect(rules([second, first], { hourly: 5 })).toEqual([
      ["hourly 2026-10-25 02h"],
      ["hourly 2026-10-25 02h (the oldest: fewer hourly periods than kept)"],
    ]);
    // Just after local midnight is the new day, though in UTC it is still the day before.
    const spring = [new Date(Date.UTC(2026, 2, 28, 23, 30)), new Date(Date.UTC(2026, 2, 28, 22, 30))];
    expect(rules(spring, { daily: 1, monthly: 1 })).toEqual([["daily 2026-03-29", "monthly 2026-03"], []]);
  });
});

function entry(service: string, created: Date, opts: Partial<RetentionEntry> = {}): RetentionEntry {
  const host = opts.host ?? HOST;
  return {
    id: backupId(service, created, host),
    service,
    host,
    createdAt: created,
    kind: "scheduled",
    bytes: 1,
    ...opts,
  };
}
const ids = (list: RetentionEntry[]) => list.map((e) => e.id);
const NOW = at("2026-12-06 12:00");

describe("planRetention with a calendar", () => {
  const calendar = { ...NONE, daily: 2 };
  const policy = { retentionDays: 7, keepLast: 3, calendar };

  test("ties: two backups at the same moment, the plan does not depend on their order", () => {
    const t = at("2026-12-05 03:00");
    const [a, b] = [entry("svc", t, { id: "svc_a" }), entry("svc", t, { id: "svc_b" })];
    const older = entry("svc", at("2026-12-04 03:00"));
    for (const input of [
      [a, b, older],
      [older, b, a],
    ]) {
      const plan = planRetention(input, policy, HOST, NOW);
      expect(ids(plan.keep)).toEqual([a.id, older.id]);
      expect(ids(plan.remove)).toEqual([b.id]);
      expect(plan.reasons.get(b.id)).toBe("no retention rule keeps it");
    }
  });

  test("reasons are joined per backup; safety backups keep retention_days, newest always", () => {
    const regular = ["2026-12-06 03:00", "2026-12-05 03:00", "2026-12-04 03:00"].map((t) => entry("svc", at(t)));
    const safetyOld = [20, 30].map((d) => entry("svc", new Date(NOW.getTime() - d * DAY), { kind: "pre-restore" }));
    const safetyNew = entry("svc", new Date(NOW.getTime() - HOUR), { kind: "pre-restore" });
    const plan = planRetention(
      [...regular, ...safetyOld, safetyNew],
      { ...policy, calendar: { ...calendar, monthly: 1 } },
      HOST,
      NOW,
    );
    expect(plan.reasons.get(regular[0]!.id)).toBe("daily 2026-12-06, monthly 2026-12");
    expect(ids(plan.keep)).toEqual(ids([safetyNew, regular[0]!, regular[1]!]));
    expect(ids(plan.remove)).toEqual(ids([regular[2]!, ...safetyOld]));
    expect(plan.reasons.get(safetyNew.id)).toBe("pre-restore safety backup younger than 7 days");
    // Without a younger one, the newest safety backup stays as the undo point.
    const alone = planRetention([...regular, ...safetyOld], policy, HOST, NOW);
    expect(plan.reasons.get(safetyOld[1]!.id)).toBe("older than 7 days");
    expect(alone.reasons.get(safetyOld[0]!.id)).toBe(
      "the newest pre-restore safety backup (the last restore's undo point)",
    );
  });

  test("other hosts' backups are never removed nor counted; future-dated ones stay", () => {
    const theirs = [1, 2, 3, 400].map((d) => entry("svc", new Date(NOW.getTime() - d * DAY), { host: "other" }));
    const mine = [1, 2, 3].map((d) => entry("svc", new Date(NOW.getTime() - d * DAY)));
    const future = entry("svc", new Date(NOW.getTime() + 300 * DAY));
    const plan = planRetention([...theirs, ...mine, future], policy, HOST, NOW);
    expect(ids(plan.remove)).toEqual([mine[2]!.id]);
    for (const e of theirs) expect(plan.reasons.get(e.id)).toBe("made on another host");
    expect(plan.reasons.get(future.id)).toStartWith("dated in the future");
  });
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tools-backup-retention-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

function load(yaml: string) {
  const dir = path.join(tmp, `t${counter++}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "keys.env"), "AWS_ACCESS_KEY_ID=k\nAWS_SECRET_ACCESS_KEY=s\n", { mode: 0o600 });
  fs.writeFileSync(path.join(dir, "backup.yaml"), yaml);
  return loadBackupConfig(path.join(dir, "backup.yaml"), {}, "/home/u");
}

function errorOf(yaml: string): ConfigError {
  try {
    load(yaml);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

const COPY = "offsite:\n  - name: b2\n    url: s3://bucket/x\n    credentials: keys.env\n";

describe("retention: in backup.yaml", () => {
  test("a calendar is read, keep_within as a span; safety backups keep retention_days' default", () => {
    const c = load("backup_dir: /b\nretention:\n  keep_daily: 7\n  keep_monthly: 12\n  keep_within: 1y6m\n");
    expect(c.retention).toEqual({
      retentionDays: 7,
      keepLast: 3,
      calendar: { ...NONE, daily: 7, monthly: 12, within: { years: 1, months: 6, days: 0, hours: 0 } },
    });
  });

  test("a policy that keeps nothing is refused where it is written", () => {
    expect(errorOf("backup_dir: /b\nretention:\n  keep_daily: 0\n").message).toEndWith(
      ":2:1: retention: would keep nothing: give at least one keep_* rule above 0",
    );
    expect(errorOf("backup_dir: /b\nretention: {}\n").message).toContain("would keep nothing");
    expect(errorOf("backup_dir: /b\nretention:\n  keep_within: 0d\n").message).toContain("would keep nothing");
  });

  test("retention: beside retention_days or keep_last is refused at that key", () => {
    const e = errorOf("backup_dir: /b\nkeep_last: 2\nretention:\n  keep_daily: 7\n");
    expect(e.message).toEndWith(":2:12: keep_last: retention: replaces keep_last; keep one or the other");
  });

  test("a bad keep_within or count points at its value", () => {
    for (const bad of ["2w", "d", "1.5d", "7"]) {
      const e = errorOf(`backup_dir: /b\nretention:\n  keep_within: "${bad}"\n`);
      expect({ bad, message: e.message }).toMatchObject({ message: expect.stringContaining(":3:16: ") });
      expect(e.message).toContain('a span like "2d", "36h", "1y6m"');
    }
    expect(errorOf("backup_dir: /b\nretention:\n  keep_daily: -1\n").message).toContain("from 0 to 100000");
    expect(errorOf("backup_dir: /b\nretention:\n  keep_dayly: 3\n").message).toContain('unknown key "keep_dayly"');
  });

  test("an offsite copy has its own calendar, refused beside its own keep_last", () => {
    const c = load(`backup_dir: /b\nretention_days: 5\n${COPY}    retention:\n      keep_yearly: 3\n`);
    expect(c.retention.calendar).toBeUndefined();
    expect(c.offsite[0]!.retention).toEqual({ retentionDays: 5, keepLast: 3, calendar: { ...NONE, yearly: 3 } });
    const e = errorOf(`backup_dir: /b\n${COPY}    keep_last: 2\n    retention:\n      keep_daily: 7\n`);
    expect(e.message).toContain(":6:16: offsite[0].keep_last: retention: replaces keep_last");
    expect(errorOf(`backup_dir: /b\n${COPY}    retention:\n      keep_last: 0\n`).message).toContain(
      "would keep nothing",
    );
  });
});
