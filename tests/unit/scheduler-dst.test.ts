// Daylight saving: a daily job runs exactly once on both transition days.
// 2025 transitions: America/New_York 9 March 02:00 EST → 03:00 EDT and
// 2 November 02:00 EDT → 01:00 EST; Europe/London 30 March 01:00 GMT →
// 02:00 BST and 26 October 02:00 BST → 01:00 GMT.
import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import {
  nextOccurrence,
  occurrencesBetween,
  previousOccurrence,
  scheduleOf,
} from '../../src/scheduler/occurrences.ts';
import { formatLocal, localToInstant } from '../../src/util/zoned.ts';

const H = 3_600_000;
/** Occurrences from noon UTC of the day before to noon UTC of the day after (covers the whole local day in both zones). */
function around(expr: string, tz: string, day: string) {
  const mid = Date.parse(`${day}T12:00:00Z`);
  return occurrencesBetween(scheduleOf(expr, tz), mid - 36 * H, mid + 36 * H).last.map((t) =>
    formatLocal(t, tz),
  );
}
const onDay = (list: string[], day: string) => list.filter((s) => s.startsWith(day));

describe('a daily 02:30 job on DST transition days', () => {
  const cases: [string, string, string][] = [
    ['America/New_York', '2025-03-09', '2025-03-09T03:30:00-04:00'], // 02:30 does not exist: runs at 03:30 EDT
    ['America/New_York', '2025-11-02', '2025-11-02T02:30:00-05:00'],
    ['Europe/London', '2025-03-30', '2025-03-30T02:30:00+01:00'],
    ['Europe/London', '2025-10-26', '2025-10-26T02:30:00+00:00'],
  ];
  for (const [tz, day, expected] of cases)
    it(`${tz} ${day}: once, at ${expected}`, () => {
      const all = around('30 2 * * *', tz, day);
      expect(onDay(all, day)).toEqual([expected]);
      // and the neighbouring days keep their normal 02:30
      expect(all.filter((s) => !s.startsWith(day)).every((s) => s.includes('T02:30:00'))).toBe(true);
    });
});

describe('a daily 01:30 job (the hour London skips in spring; repeated in autumn in both zones)', () => {
  const cases: [string, string, string][] = [
    ['Europe/London', '2025-03-30', '2025-03-30T02:30:00+01:00'], // 01:30 GMT does not exist → 02:30 BST
    ['Europe/London', '2025-10-26', '2025-10-26T01:30:00+01:00'], // first of the two 01:30s (BST)
    ['America/New_York', '2025-11-02', '2025-11-02T01:30:00-04:00'], // first of the two (EDT)
    ['America/New_York', '2025-03-09', '2025-03-09T01:30:00-05:00'],
  ];
  for (const [tz, day, expected] of cases)
    it(`${tz} ${day}: once, at ${expected}`, () => {
      expect(onDay(around('30 1 * * *', tz, day), day)).toEqual([expected]);
    });
});

describe('the zone arithmetic', () => {
  it('resolves gap, overlap and plain times as RFC 5545 says', () => {
    const p = (h: number, m: number) => ({ year: 2025, month: 3, day: 9, hour: h, minute: m, second: 0 });
    expect(localToInstant(p(2, 30), 'America/New_York')).toEqual({
      ms: Date.parse('2025-03-09T07:30:00Z'),
      resolution: 'gap',
    });
    expect(localToInstant({ ...p(1, 30), month: 11, day: 2 }, 'America/New_York')).toEqual({
      ms: Date.parse('2025-11-02T05:30:00Z'),
      resolution: 'repeated',
    });
    expect(localToInstant(p(12, 0), 'Asia/Hong_Kong')).toEqual({
      ms: Date.parse('2025-03-09T04:00:00Z'),
      resolution: 'exact',
    });
  });

  it('next and previous agree across a transition', () => {
    const s = scheduleOf('30 2 * * *', 'America/New_York');
    const t = nextOccurrence(s, Date.parse('2025-03-08T12:00:00Z'));
    expect(new Date(t).toISOString()).toBe('2025-03-09T07:30:00.000Z');
    expect(nextOccurrence(s, t)).toBe(Date.parse('2025-03-10T06:30:00Z'));
    expect(previousOccurrence(s, t)).toBe(t);
    expect(previousOccurrence(s, t - 1)).toBe(Date.parse('2025-03-08T07:30:00Z'));
  });

  it('a half-hourly job runs each wall-clock time once: the repeated hour once, the skipped hour merges', () => {
    const fall = around('*/30 * * * *', 'America/New_York', '2025-11-02');
    expect(onDay(fall, '2025-11-02T01')).toEqual(['2025-11-02T01:00:00-04:00', '2025-11-02T01:30:00-04:00']);
    expect(onDay(fall, '2025-11-02').length).toBe(48);
    const spring = onDay(around('*/30 * * * *', 'America/New_York', '2025-03-09'), '2025-03-09');
    // 02:00 and 02:30 land on 03:00 and 03:30 EDT, which are occurrences anyway: 46 distinct instants.
    expect(spring.length).toBe(46);
    expect(new Set(spring).size).toBe(46);
  });

  it('zones without DST are plain arithmetic', () => {
    const hk = around('0 7 * * *', 'Asia/Hong_Kong', '2025-12-10');
    expect(onDay(hk, '2025-12-10')).toEqual(['2025-12-10T07:00:00+08:00']);
  });
});

// Why occurrences are computed with Intl and node-cron only ticks: pin what
// node-cron 4 does on the same days, so an upgrade that fixes it shows here.
describe('node-cron 4 on the same days', () => {
  const nextRuns = (expr: string, tz: string, from: string, n: number) => {
    const task = cron.createTask(expr, () => {}, { timezone: tz });
    try {
      const out: string[] = [];
      let d = new Date(from);
      // getNextRuns() starts from the wall clock; walk the matcher from a fixed date instead.
      const matcher = (task as unknown as { timeMatcher: { getNextMatch(d: Date): Date } }).timeMatcher;
      for (let i = 0; i < n; i++) {
        d = matcher.getNextMatch(d);
        out.push(formatLocal(d.getTime(), tz));
      }
      return out;
    } finally {
      task.destroy();
    }
  };

  it('skips a daily 02:30 America/New_York on the spring-forward day entirely', () => {
    expect(nextRuns('30 2 * * *', 'America/New_York', '2025-03-08T12:00:00Z', 2)).toEqual([
      '2025-03-10T02:30:00-04:00',
      '2025-03-11T02:30:00-04:00',
    ]);
  });

  it('skips a daily 01:30 Europe/London on the spring-forward day', () => {
    expect(nextRuns('30 1 * * *', 'Europe/London', '2025-03-29T12:00:00Z', 1)).toEqual([
      '2025-03-31T01:30:00+01:00',
    ]);
  });

  it('runs a repeated 01:30 once (the first), as we do', () => {
    expect(nextRuns('30 1 * * *', 'America/New_York', '2025-11-01T12:00:00Z', 2)).toEqual([
      '2025-11-02T01:30:00-04:00',
      '2025-11-03T01:30:00-05:00',
    ]);
  });
});
