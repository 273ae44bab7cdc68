// Wall-clock time in an IANA zone, from Intl alone (no tz library).
//
// A local time maps to zero, one or two instants. The rules for the two odd
// cases are RFC 5545's (iCalendar, §3.3.5), which is also what Temporal's
// `disambiguation: 'compatible'` does:
// - a time inside a spring-forward gap (02:30 on the day New York jumps from
//   02:00 to 03:00) is read with the offset in force before the jump, so it
//   lands just after it: 02:30 EST = 03:30 EDT;
// - a time inside a fall-back overlap (01:30 on the day 01:00–02:00 happens
//   twice) means its first occurrence.
// So a daily job runs exactly once on both transition days.

import { dateFormat } from './intl.ts';

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatter = (tz: string) =>
  dateFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });

/** The wall clock in `tz` at instant `ms`. */
export function localParts(ms: number, tz: string): LocalParts {
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(ms)))
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  return {
    year: p.year!,
    month: p.month!,
    day: p.day!,
    hour: p.hour! % 24,
    minute: p.minute!,
    second: p.second!,
  };
}

const asUtc = (p: LocalParts) => Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);

/** Local minus UTC, in ms, at instant `ms` (e.g. +8 h for Asia/Hong_Kong). */
export function offsetAt(ms: number, tz: string): number {
  return asUtc(localParts(ms, tz)) - Math.floor(ms / 1000) * 1000;
}

interface DayZone {
  /** Offset at the start of the window around the day. */
  before: number;
  /** Offset at its end; equal to `before` on days without a transition. */
  after: number;
  /** First instant (ms) of the `after` offset, when the offset changes. */
  at?: number;
}

const HOUR = 3_600_000;
const dayCache = new Map<string, DayZone>();

/**
 * The zone's offsets around one local calendar day. The window reaches 15 h
 * past each end so it covers the day in any zone (offsets run −12 h … +14 h).
 * Assumes at most one transition in it, which holds for every zone in tzdata.
 */
function dayZone(tz: string, y: number, m: number, d: number): DayZone {
  const key = `${tz}|${y}-${m}-${d}`;
  const hit = dayCache.get(key);
  if (hit) return hit;
  const lo0 = Date.UTC(y, m - 1, d) - 15 * HOUR;
  const hi0 = Date.UTC(y, m - 1, d + 1) + 15 * HOUR;
  const before = offsetAt(lo0, tz);
  const after = offsetAt(hi0, tz);
  let z: DayZone = { before, after };
  if (before !== after) {
    // Binary search, in whole seconds (Intl has no finer resolution).
    let lo = lo0 / 1000;
    let hi = hi0 / 1000;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetAt(mid * 1000, tz) === before) lo = mid;
      else hi = mid;
    }
    z = { before, after, at: hi * 1000 };
  }
  if (dayCache.size > 2000) dayCache.clear();
  dayCache.set(key, z);
  return z;
}

export type Resolution = 'exact' | 'gap' | 'repeated';

/**
 * The instant a local wall-clock time on a given day stands for, by the rules
 * at the top of this file, and which rule applied.
 */
export function localToInstant(p: LocalParts, tz: string): { ms: number; resolution: Resolution } {
  const z = dayZone(tz, p.year, p.month, p.day);
  const local = asUtc(p);
  if (z.at === undefined) return { ms: local - z.before, resolution: 'exact' };
  const early = local - z.before;
  const late = local - z.after;
  const earlyOk = early < z.at;
  const lateOk = late >= z.at;
  if (earlyOk && lateOk) return { ms: Math.min(early, late), resolution: 'repeated' };
  if (earlyOk) return { ms: early, resolution: 'exact' };
  if (lateOk) return { ms: late, resolution: 'exact' };
  return { ms: early, resolution: 'gap' };
}

/** Same as localToInstant, arithmetic only after the first call for a day: for schedules with many times a day. */
export function dayResolver(
  tz: string,
  y: number,
  m: number,
  d: number,
): (h: number, mi: number, s: number) => number {
  const z = dayZone(tz, y, m, d);
  const base = Date.UTC(y, m - 1, d);
  if (z.at === undefined) return (h, mi, s) => base + ((h * 60 + mi) * 60 + s) * 1000 - z.before;
  const at = z.at;
  return (h, mi, s) => {
    const local = base + ((h * 60 + mi) * 60 + s) * 1000;
    const early = local - z.before;
    const late = local - z.after;
    if (early < at) return late >= at ? Math.min(early, late) : early;
    return late >= at ? late : early;
  };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `2025-03-09T03:30:00-04:00`: the instant as the zone's wall clock, with its offset. */
export function formatLocal(ms: number, tz: string): string {
  const p = localParts(ms, tz);
  const off = offsetAt(ms, tz) / 60_000;
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}
