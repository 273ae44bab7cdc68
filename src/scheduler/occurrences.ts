// When a job is due. Computed here, with Intl, rather than taken from
// node-cron: node-cron 4.6 never fires a time that falls in a spring-forward
// gap (a daily 02:30 America/New_York job simply does not run on the second
// Sunday of March; tests/unit/scheduler-dst.test.ts pins that), and a daemon
// that restarts needs past occurrences (missed-run policy) and `status` needs
// future ones, neither of which node-cron's ticking gives. node-cron still
// does the ticking (daemon.ts).
//
// An occurrence is identified by its instant (UTC ms). Two local times that
// map to one instant — 02:30 shifted out of a gap onto a real 03:30 — are one
// occurrence and run once.

import { dayResolver, localParts } from '../util/zoned.ts';
import { type CronSpec, matchesDay, parseCron } from './cron.ts';

export interface Schedule {
  spec: CronSpec;
  timezone: string;
}

export const scheduleOf = (cron: string, timezone: string): Schedule => ({ spec: parseCron(cron), timezone });

/** Far enough for any expression we accept (29 February on a Monday is not one: see cron.ts). */
const MAX_DAYS = 366 * 9;

function ymd(y: number, m: number, d: number): [number, number, number] {
  const t = new Date(Date.UTC(y, m - 1, d));
  return [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()];
}

const cache = new Map<string, number[]>();

/** Every occurrence on one local calendar day, ascending, de-duplicated. */
export function occurrencesOnDay(s: Schedule, y: number, m: number, d: number): number[] {
  if (!matchesDay(s.spec, y, m, d)) return [];
  const key = `${s.spec.source}|${s.timezone}|${y}-${m}-${d}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const at = dayResolver(s.timezone, y, m, d);
  const out: number[] = [];
  for (const h of s.spec.hours)
    for (const mi of s.spec.minutes) for (const sec of s.spec.seconds) out.push(at(h, mi, sec));
  out.sort((a, b) => a - b);
  const uniq = out.filter((v, i) => i === 0 || v !== out[i - 1]);
  if (cache.size > 64) cache.clear();
  cache.set(key, uniq);
  return uniq;
}

function localDay(ms: number, tz: string): [number, number, number] {
  const p = localParts(ms, tz);
  return [p.year, p.month, p.day];
}

/** First index in ascending `a` whose value is > x. */
function upper(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first occurrence strictly after `afterMs`. */
export function nextOccurrence(s: Schedule, afterMs: number): number {
  // Start a day early: a time shifted out of a gap can move past midnight.
  const [y, m, d] = localDay(afterMs, s.timezone);
  for (let i = -1; i < MAX_DAYS; i++) {
    const day = occurrencesOnDay(s, ...ymd(y, m, d + i));
    const j = upper(day, afterMs);
    if (j < day.length) return day[j]!;
  }
  throw new Error(`no occurrence of "${s.spec.source}" within ${MAX_DAYS} days`);
}

/** The last occurrence at or before `atMs`, if any within the search range. */
export function previousOccurrence(s: Schedule, atMs: number): number | undefined {
  const [y, m, d] = localDay(atMs, s.timezone);
  for (let i = 1; i > -MAX_DAYS; i--) {
    const day = occurrencesOnDay(s, ...ymd(y, m, d + i));
    const j = upper(day, atMs);
    if (j > 0) return day[j - 1]!;
  }
  return undefined;
}

/**
 * Occurrences in (fromMs, toMs]: how many, and the last `keep` of them
 * (ascending). Walks day by day, so a per-second job over a long outage
 * costs time but no memory.
 */
export function occurrencesBetween(
  s: Schedule,
  fromMs: number,
  toMs: number,
  keep = Number.POSITIVE_INFINITY,
): { count: number; last: number[] } {
  const last: number[] = [];
  let count = 0;
  if (toMs <= fromMs) return { count, last };
  const [y, m, d] = localDay(fromMs, s.timezone);
  const end = localDay(toMs, s.timezone);
  const endKey = Date.UTC(end[0], end[1] - 1, end[2] + 1);
  for (let i = -1; Date.UTC(y, m - 1, d + i) <= endKey; i++) {
    for (const t of occurrencesOnDay(s, ...ymd(y, m, d + i))) {
      if (t <= fromMs || t > toMs) continue;
      count++;
      last.push(t);
      if (last.length > keep) last.shift();
    }
  }
  return { count, last };
}
