import { describe, expect, test } from "bun:test";
import type { BackupKind } from "../../src/archive/naming.ts";
import { backupId } from "../../src/archive/naming.ts";
import { planRetention, type RetentionEntry } from "../../src/retention/plan.ts";
import { staleTempFiles } from "../../src/retention/temp-files.ts";

const DAY = 86_400_000;
const NOW = new Date("2026-03-01T03:00:00Z");
const HOST = "myhost";

function entry(service: string, ageMs: number, opts: { host?: string; kind?: BackupKind } = {}): RetentionEntry {
  const host = opts.host ?? HOST;
  const createdAt = new Date(NOW.getTime() - ageMs);
  const id = backupId(service, createdAt, host);
  return {
    id,
    service,
    host,
    createdAt,
    kind: opts.kind ?? "scheduled",
    bytes: 100,
  };
}

const ids = (list: RetentionEntry[]) => list.map((e) => e.id);

describe("planRetention", () => {
  test("keep_last keeps the newest N even when all are expired", () => {
    const all = [10, 20, 30, 40].map((d) => entry("svc", d * DAY));
    const plan = planRetention(all, { retentionDays: 7, keepLast: 2 }, HOST, NOW);
    expect(ids(plan.keep)).toEqual(ids(all.slice(0, 2)));
    expect(ids(plan.remove)).toEqual(ids(all.slice(2)));
    expect(plan.reasons.get(all[0]!.id)).toBe("one of the newest 2");
    expect(plan.reasons.get(all[3]!.id)).toBe("older than 7 days");
  });

  test("expired beyond keep_last are removed, young ones kept", () => {
    const all = [1, 2, 3, 8, 9].map((d) => entry("svc", d * DAY));
    const plan = planRetention(all, { retentionDays: 7, keepLast: 1 }, HOST, NOW);
    expect(ids(plan.keep)).toEqual(ids(all.slice(0, 3)));
    expect(ids(plan.remove)).toEqual(ids(all.slice(3)));
    expect(plan.reasons.get(all[1]!.id)).toBe("younger than 7 days");
  });

  test("exactly retentionDays old is kept, one second more is removed", () => {
    const exact = entry("svc", 7 * DAY);
    const over = entry("svc", 7 * DAY + 1000);
    const plan = planRetention([over, exact], { retentionDays: 7, keepLast: 0 }, HOST, NOW);
    expect(ids(plan.keep)).toEqual([exact.id]);
    expect(ids(plan.remove)).toEqual([over.id]);
  });

  test("other hosts' entries are never removed and do not count toward keep_last", () => {
    const foreignNew = entry("svc", 0.5 * DAY, { host: "other" });
    const foreignOld = entry("svc", 90 * DAY, { host: "other" });
    const mine = [10, 20, 30].map((d) => entry("svc", d * DAY));
    const plan = planRetention([foreignOld, ...mine, foreignNew], { retentionDays: 7, keepLast: 1 }, HOST, NOW);
    expect(ids(plan.keep)).toEqual([foreignNew.id, mine[0]!.id, foreignOld.id]);
    expect(ids(plan.remove)).toEqual(ids(mine.slice(1)));
    expect(plan.reasons.get(foreignOld.id)).toBe("made on another host");
  });

  test("services are planned independently", () => {
    const a = [10, 20].map((d) => entry("alpha", d * DAY));
    const b = [11, 21, 31].map((d) => entry("beta", d * DAY));
    const plan = planRetention([...b, ...a], { retentionDays: 7, keepLast: 1 }, HOST, NOW);
    expect(ids(plan.keep)).toEqual([a[0]!.id, b[0]!.id]);
    expect(ids(plan.remove)).toEqual([a[1]!.id, b[1]!.id, b[2]!.id]);
  });

  test("pre-restore younger than retentionDays is kept even beyond keep_last", () => {
    const newest = entry("svc", 1 * DAY);
    const safety = entry("svc", 2 * DAY, { kind: "pre-restore" });
    const plan = planRetention([safety, newest], { retentionDays: 7, keepLast: 1 }, HOST, NOW);
    expect(ids(plan.keep)).toEqual([newest.id, safety.id]);
    expect(plan.remove).toEqual([]);
    expect(plan.reasons.get(safety.id)).toBe("pre-restore safety backup younger than 7 days");
  });

  test("pre-restore older than retentionDays is removed, except the newest safety backup of the service", () => {
    const newest = entry("svc", 1 * DAY);
    const safety = entry("svc", 8 * DAY, { kind: "pre-restore" });
    const older = entry("svc", 9 * DAY, { kind: "pre-restore" });
    const plan = planRetention([older, safety, newest], { retentionDays: 7, keepLast: 1 }, HOST, NOW);
    expect(ids(plan.keep)).toEqual([newest.id, safety.id]);
    expect(ids(plan.remove)).toEqual([older.id]);
    expect(plan.reasons.get(safety.id)).toBe("the newest pre-restore safety backup (the last restore's undo point)");
  });

  test("keep_last counts regular backups only: newer safety backups do not push them out", () => {
    const safety = [0.1, 0.2].map((d) => entry("svc", d * DAY, { kind: "pre-restore" }));
    const regular = [10, 20, 30, 40].map((d) => entry("svc", d * DAY, { kind: d === 20 ? "manual" : "scheduled" }));
    const plan = planRetention([...safety, ...regular], { retentionDays: 7, keepLast: 3 }, HOST, NOW);
    expect(ids(plan.keep)).toEqual(ids([...safety, ...regular.slice(0, 3)]));
    expect(ids(plan.remove)).toEqual([regular[3]!.id]);
    expect(plan.reasons.get(regular[2]!.id)).toBe("one of the newest 3");
    expect(plan.reasons.get(safety[1]!.id)).toBe("pre-restore safety backup younger than 7 days");
  });

  test("safety backups beyond retention_days go even when fewer than keep_last, the newest one stays", () => {
    const regular = entry("svc", 1 * DAY);
    const safety = [8, 9, 10].map((d) => entry("svc", d * DAY, { kind: "pre-restore" }));
    const other = entry("other", 30 * DAY, { kind: "pre-restore" });
    const plan = planRetention([regular, ...safety, other], { retentionDays: 7, keepLast: 5 }, HOST, NOW);
    expect(ids(plan.keep)).toEqual([regular.id, safety[0]!.id, other.id]);
    expect(ids(plan.remove)).toEqual(ids(safety.slice(1)));
  });

  test("output does not depend on input order", () => {
    const all = [0, 3, 5, 9, 12].map((d) => entry("svc", d * DAY));
    const policy = { retentionDays: 4, keepLast: 2 };
    const a = planRetention(all, policy, HOST, NOW);
    const b = planRetention([...all].reverse(), policy, HOST, NOW);
    expect(ids(a.keep)).toEqual(ids(b.keep));
    expect(ids(a.remove)).toEqual(ids(b.remove));
  });

  test("twenty daily backups, retention 1 day, keep_last 3: exactly the expired beyond the newest 3 go", () => {
    // Ages 0, 1d+1h, 2d+1h ... 19d+1h: only the newest is within a day, yet keep_last holds three.
    const all = Array.from({ length: 20 }, (_, i) => entry("svc", i * DAY + (i > 0 ? 3_600_000 : 0)));
    const plan = planRetention(all, { retentionDays: 1, keepLast: 3 }, HOST, NOW);
    expect(ids(plan.keep)).toEqual(ids(all.slice(0, 3)));
    expect(ids(plan.remove)).toEqual(ids(all.slice(3)));
    expect(plan.remove.every((e) => NOW.getTime() - e.createdAt.getTime() > DAY)).toBe(true);
    expect(plan.keep.length + plan.remove.length).toBe(20);
  });
  test("backups dated in the future are kept and do not count towards keep_last; an hour of skew is not the future", () => {
    const future = [-400 * DAY, -300 * DAY].map((d) => entry("svc", d)); // a year ahead: a wrong clock
    const skewed = entry("svc", -30 * 60_000); // half an hour ahead: clocks drift
    const real = [10, 20, 30, 40].map((d) => entry("svc", d * DAY));
    const plan = planRetention([...future, skewed, ...real], { retentionDays: 7, keepLast: 2 }, HOST, NOW);
    expect(ids(plan.keep)).toEqual(ids([...future, skewed, real[0]!]));
    expect(ids(plan.remove)).toEqual(ids(real.slice(1)));
    expect(plan.reasons.get(future[0]!.id)).toBe("dated in the future (a wrong clock?): its age cannot be judged");
    expect(plan.reasons.get(skewed.id)).toBe("one of the newest 2");
  });
});

describe("staleTempFiles", () => {
  const old = NOW.getTime() - 2 * DAY;
  const fresh = NOW.getTime() - 3_600_000;
  const mineId = "openmemory_20260101T030000Z_myhost";
  const theirsId = "openmemory_20260101T030000Z_otherhost";

  test("an old temp file of this host is returned, with or without an extra suffix", () => {
    const paths = [
      `/b/openmemory/.tmp-${mineId}.tar.zst`,
      `/b/openmemory/.tmp-${mineId}.tar.zst.12345`,
      `/b/openmemory/.tmp-${mineId}.tar.gz.ab12`,
      `/b/openmemory/.tmp-${mineId}.json`,
      `/b/openmemory/.tmp-${mineId}.json.999`,
    ];
    const got = staleTempFiles(
      paths.map((path) => ({ path, mtimeMs: old })),
      HOST,
      NOW,
    );
    expect(got).toEqual(paths);
  });

  test("another host's, fresh ones and foreign names are never returned", () => {
    const got = staleTempFiles(
      [
        { path: `/b/openmemory/.tmp-${theirsId}.tar.zst.1`, mtimeMs: old },
        { path: `/b/openmemory/.tmp-${mineId}.tar.zst.2`, mtimeMs: fresh },
        { path: `/b/openmemory/.tmp-notes.txt`, mtimeMs: old },
        { path: `/b/openmemory/.tmp-openmemory_2026_x.tar.zst`, mtimeMs: old },
        { path: `/b/openmemory/${mineId}.tar.zst`, mtimeMs: old },
        { path: `/b/openmemory/.tmp-${mineId}.tar.zst.1.2`, mtimeMs: old },
        { path: `/b/openmemory/.tmp-${mineId}.txt`, mtimeMs: old },
      ],
      HOST,
      NOW,
    );
    expect(got).toEqual([]);
  });

  test("the host is compared after safeHost", () => {
    const id = "svc_20260101T030000Z_my-host";
    const got = staleTempFiles([{ path: `.tmp-${id}.json`, mtimeMs: old }], "my_host", NOW);
    expect(got).toEqual([`.tmp-${id}.json`]);
  });

  test("exactly one day old is not yet stale", () => {
    const path = `.tmp-${mineId}.json`;
    expect(staleTempFiles([{ path, mtimeMs: NOW.getTime() - DAY }], HOST, NOW)).toEqual([]);
    expect(staleTempFiles([{ path, mtimeMs: NOW.getTime() - DAY - 1 }], HOST, NOW)).toEqual([path]);
  });
});
