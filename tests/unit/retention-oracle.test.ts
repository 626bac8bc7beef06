/**
 * The calendar retention checked against an oracle no one here wrote: restic's `forget`. Seeded
 * random timelines (intervals from minutes to weeks, gaps, several backups a day, the Europe/Berlin
 * DST changes and year ends with ISO week 53 crowded with backups) are made as snapshots in a restic
 * repository, and for several policies each, our keep set must equal `restic forget --dry-run`'s.
 *
 * Debian's restic is 0.14, from before the rule that keeps the oldest backup while a series is short
 * (restic 0.16): so each policy asks only for fewer periods than the timeline has for every rule
 * (its series are full, where both versions agree). The short-series rule has unit tests of its own.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { isoWeek, RULES } from "../../src/retention/calendar.ts";
import { planRetention, type RetentionEntry } from "../../src/retention/plan.ts";
import {
  backups,
  cloneRestic,
  forgetKeeps,
  initRestic,
  type Restic,
  removeRestic,
  snapshots,
} from "../helpers/restic.ts";

setDefaultTimeout(170_000);

const TZ = "Europe/Berlin";
const TIMELINES = 8;
const FIRST_SEED = 3401;
const POLICIES_EACH = 6;
const PARALLEL = 8;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const SPANS = ["1d", "2d", "36h", "7d", "1m", "2m15d", "1y", "1y6m", "3m12h", "10d5h"];

const savedTz = process.env.TZ;
const repos: Restic[] = [];
beforeAll(() => {
  // Bun applies a changed TZ at once: the planner reads the calendar in the zone restic is given.
  process.env.TZ = TZ;
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
  for (const r of repos) removeRestic(r);
});

/** mulberry32: a small seeded generator, so a failure can be replayed by its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The Sunday on or before the last day of a month, at 01:00 UTC: when Berlin changes its clocks. */
function dstChange(year: number, month: number): number {
  const last = new Date(Date.UTC(year, month + 1, 0));
  return Date.UTC(year, month, last.getUTCDate() - last.getUTCDay(), 1);
}

/** The moments crowded with backups: clock changes and new years (2020 and 2026 have an ISO week 53). */
function hotspots(from: number, to: number): number[] {
  const spots: number[] = [];
  for (let y = new Date(from).getUTCFullYear(); y <= new Date(to).getUTCFullYear() + 1; y++)
    spots.push(dstChange(y, 2), dstChange(y, 9), Date.UTC(y, 0, 1) - HOUR);
  return spots.filter((t) => t > from && t < to);
}

/**
 * Backup moments (whole seconds, distinct), newest first, ending near a year end or a clock change;
 * `weekFiftyThree`: ending just after 2020's ISO week 53 (2020-12-28 to 2021-01-03).
 */
function timeline(rand: () => number, weekFiftyThree: boolean): number[] {
  // Up to early 2026 at most: all in the past, where restic and the planner anchor keep_within alike.
  const year = 2019 + Math.floor(rand() * 7);
  const ends = [Date.UTC(year, 0, 3), dstChange(year, 2) + 2 * DAY, dstChange(year, 9) + DAY];
  const pick = Math.floor(rand() * (ends.length + 1));
  const start = weekFiftyThree ? Date.UTC(2021, 0, 3) : (ends[pick] ?? Date.UTC(year, Math.floor(rand() * 12), 15));
  const end = start + rand() * 5 * DAY;
  const times = new Set<number>();
  let t = end;
  const steps = 24 + Math.floor(rand() * 16);
  for (let i = 0; i < steps; i++) {
    times.add(t);
    // Log-uniform from 10 minutes to 60 days: several a day, daily runs, and long gaps.
    t -= 10 * MIN * Math.exp(rand() * Math.log((60 * DAY) / (10 * MIN)));
  }
  for (const spot of hotspots(t, end))
    for (let k = 2 + Math.floor(rand() * 4); k > 0; k--) times.add(spot + (rand() - 0.5) * 60 * HOUR);
  return [...new Set([...times].map((x) => Math.floor(x / 1000) * 1000))].sort((a, b) => b - a);
}

const pad = (n: number) => String(n).padStart(2, "0");
/** The local wall time restic's --time takes. */
function local(t: number): string {
  const d = new Date(t);
  const [h, m, s] = [d.getHours(), d.getMinutes(), d.getSeconds()].map(pad);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${h}:${m}:${s}`;
}

/** How many distinct periods of each rule the times cover (local time). */
function periods(times: Date[]): Record<(typeof RULES)[number], number> {
  const distinct = (f: (d: Date) => string) => new Set(times.map(f)).size;
  const day = (d: Date) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
  return {
    last: times.length,
    hourly: distinct((d) => `${day(d)} ${d.getHours()}`),
    daily: distinct(day),
    weekly: distinct((d) => isoWeek(d.getFullYear(), d.getMonth() + 1, d.getDate())),
    monthly: distinct((d) => `${d.getFullYear()}-${d.getMonth()}`),
    yearly: distinct((d) => String(d.getFullYear())),
  };
}

interface Policy {
  counts: Record<(typeof RULES)[number], number>;
  within?: string;
}

/** A policy each of whose series is full: every count below the number of periods present. */
function policy(rand: () => number, have: Record<(typeof RULES)[number], number>): Policy {
  const counts = { last: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 };
  for (const rule of RULES) {
    const most = have[rule] - 1;
    if (most < 1 || rand() < (rule === "last" || rule === "hourly" ? 0.6 : 0.25)) continue;
    counts[rule] = rand() < 0.3 ? most : 1 + Math.floor(rand() * most);
  }
  const within = rand() < 0.4 ? SPANS[Math.floor(rand() * SPANS.length)] : undefined;
  if (!within && RULES.every((r) => counts[r] === 0)) counts.daily = Math.max(1, have.daily - 1);
  return { counts, ...(within && { within }) };
}

function flags(p: Policy): string[] {
  const out = RULES.filter((r) => p.counts[r] > 0).flatMap((r) => [`--keep-${r}`, String(p.counts[r])]);
  return p.within ? [...out, "--keep-within", p.within] : out;
}

function parseSpan(text: string) {
  const part = (u: string) => Number(new RegExp(`(\\d+)${u}`).exec(text)?.[1] ?? 0);
  return { years: part("y"), months: part("m"), days: part("d"), hours: part("h") };
}

/** Our plan for restic's snapshots, as one line per snapshot where the two disagree. */
function compare(seed: number, snaps: { id: string; time: string }[], p: Policy, kept: Set<string>): string[] {
  const entries: RetentionEntry[] = snaps.map((s) => ({
    id: s.id,
    service: "svc",
    host: "h",
    createdAt: new Date(s.time),
    kind: "scheduled",
    bytes: 1,
  }));
  const calendar = { ...p.counts, ...(p.within && { within: parseSpan(p.within) }) };
  const newest = Math.max(...entries.map((e) => e.createdAt.getTime()));
  const plan = planRetention(entries, { retentionDays: 7, keepLast: 0, calendar }, "h", new Date(newest + DAY));
  const ours = new Set(plan.keep.map((e) => e.id));
  const head = `seed ${seed}, restic forget ${flags(p).join(" ")}:`;
  const diff = plan.keep
    .concat(plan.remove)
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
    .filter((e) => ours.has(e.id) !== kept.has(e.id))
    .map((e) => {
      const who = ours.has(e.id) ? "we keep, restic removes" : "restic keeps, we remove";
      return `${head} ${local(e.createdAt.getTime())} (${e.createdAt.toISOString()}): ${who} (${plan.reasons.get(e.id)})`;
    });
  return diff;
}

interface Checked {
  times: Date[];
  diff: string[];
}

async function checkTimeline(template: Restic, seed: number): Promise<Checked> {
  const rand = random(seed);
  const repo = cloneRestic(template);
  repos.push(repo);
  const host = `h${seed}`;
  await backups(repo, host, timeline(rand, seed === FIRST_SEED).map(local), TZ);
  const snaps = snapshots(repo, host, TZ);
  const have = periods(snaps.map((s) => new Date(s.time)));
  const diff: string[] = [];
  for (let i = 0; i < POLICIES_EACH; i++) {
    const p = policy(rand, have);
    diff.push(...compare(seed, snaps, p, forgetKeeps(repo, host, flags(p), TZ)));
  }
  return { times: snaps.map((s) => new Date(s.time)), diff };
}

test(`${TIMELINES} random timelines in ${TZ}: our keep set equals restic forget's for full series`, async () => {
  const template = initRestic();
  repos.push(template);
  const seeds = Array.from({ length: TIMELINES }, (_, i) => FIRST_SEED + i);
  const results: Checked[] = [];
  const worker = async () => {
    for (let seed = seeds.shift(); seed !== undefined; seed = seeds.shift())
      results.push(await checkTimeline(template, seed));
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  expect(results.flatMap((r) => r.diff)).toEqual([]);
  // The timelines really are the varied ones meant: enough snapshots, on DST days, in ISO week 53.
  const times = results.flatMap((r) => r.times);
  const day = (d: Date) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
  const dstDays = new Set(hotspots(Date.UTC(2018, 0), Date.UTC(2027, 0)).map((t) => day(new Date(t))));
  const seen = {
    many: times.length > TIMELINES * 24,
    dst: times.filter((d) => dstDays.has(day(d))).length >= 4,
    week53: times.some((d) => isoWeek(d.getFullYear(), d.getMonth() + 1, d.getDate()).endsWith("W53")),
    sameDay: results.some((r) => new Set(r.times.map(day)).size < r.times.length),
  };
  expect(seen).toEqual({ many: true, dst: true, week53: true, sameDay: true });
});

test("keep_within landing in a DST gap or a doubled hour: the same moment as restic's (Go's AddDate)", async () => {
  const repo = initRestic();
  repos.push(repo);
  // Newest at 02:30 a month after each clock change: a month back is 02:30 on the change day,
  // missing in spring, twice in autumn. Around it, backups every ten minutes (UTC).
  const around = (change: number) => Array.from({ length: 13 }, (_, i) => change - HOUR + i * 10 * MIN);
  const cases = [
    { host: "spring", newest: "2025-04-30 02:30:00", change: dstChange(2025, 2) },
    { host: "autumn", newest: "2025-11-26 02:30:00", change: dstChange(2025, 9) - HOUR },
  ];
  const diff: string[] = [];
  for (const { host, newest, change } of cases) {
    await backups(repo, host, [newest, ...around(change).map(local)], TZ);
    const snaps = snapshots(repo, host, TZ);
    const p: Policy = { counts: { last: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 }, within: "1m" };
    diff.push(...compare(0, snaps, p, forgetKeeps(repo, host, flags(p), TZ)));
  }
  expect(diff).toEqual([]);
});
