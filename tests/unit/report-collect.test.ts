import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clicksChart, niceMax } from '../../src/report/chart.ts';
import { collectRecent, collectReport, latestEditionSentTo, sentEditions } from '../../src/report/collect.ts';
import { formatReport, padCols, table } from '../../src/report/format.ts';
import type { DB } from '../../src/store/db.ts';
import { EDITION, EXPECTED, fillStore, OLDER, T0 } from '../fixtures/report/store.ts';

let db: DB;
beforeAll(() => {
  db = fillStore(join(mkdtempSync(join(tmpdir(), 'bs-report-')), 'db.sqlite'));
});
afterAll(() => db?.close());

describe('collectReport', () => {
  it('counts a store filled with known rows', () => {
    const r = collectReport(db, EDITION);
    expect(r.ledger).toEqual(EXPECTED.ledger);
    expect(r.sent).toBe(EXPECTED.sent);
    expect(r.inDoubt).toBe(EXPECTED.inDoubt);
    expect(r.firstSentAt).toBe(EXPECTED.firstSentAt);
    expect(r.delivered).toEqual(EXPECTED.delivered);
    expect(r.deferred).toEqual(EXPECTED.deferred);
    expect(r.bounced).toEqual(EXPECTED.bounced);
    expect(r.complained).toBe(EXPECTED.complained);
    expect(r.unsubscribed).toEqual(EXPECTED.unsubscribed);
    expect(r.suppressed).toBe(EXPECTED.suppressed);
    expect(r.unattributedEvents).toBe(EXPECTED.unattributedEvents);
    expect(r.clicks).toMatchObject(EXPECTED.clicks);
    expect(r.clicks.stories.map((s) => [s.story, s.unique, s.clicks])).toEqual([
      ['china-ai-patents-lead', 2, 3],
      ['hostile-story', 2, 3],
      ['not-in-manifest', 1, 1],
    ]);
    expect(r.opens).toBeNull();
    expect(r.rates.complaint).toBeCloseTo(0.1);
    // Hours from the first send; the click at hour 50 and the scanners are not in it.
    expect(r.timeline.hours.slice(0, 6)).toEqual([2, 1, 1, 0, 0, 2]);
    expect(r.timeline.hours.reduce((a, b) => a + b)).toBe(6);
  });

  it('uses ESP delivered events when there are any, and opens when the pixel recorded some', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bs-report-')), 'db.sqlite');
    const d = fillStore(file);
    const now = new Date(T0).toISOString();
    const ins = d.prepare(
      "INSERT INTO mail_events (kind, source, subscriber_id, edition, occurred_at, received_at) VALUES ('delivered', 'ses', ?, ?, ?, ?)",
    );
    for (const id of [1, 3, 3, 5]) ins.run(id, EDITION, now, now);
    d.prepare(
      "INSERT INTO opens (edition, visitor, subscriber_id, at) VALUES (?, 'v1', NULL, ?), (?, 'v1', NULL, ?), (?, 'v2', 9, ?)",
    ).run(EDITION, now, EDITION, now, EDITION, now);
    const r = collectReport(d, EDITION);
    expect(r.delivered).toEqual({ count: 3, basis: 'events' });
    expect(r.clicks.ctr).toBeCloseTo(4 / 3);
    expect(r.opens).toEqual({ total: 3, unique: 2 });
    d.close();
  });

  it('lists editions newest first and the last N with their headline numbers', () => {
    expect(sentEditions(db).map((e) => e.edition)).toEqual([EDITION, OLDER]);
    const rows = collectRecent(db, 1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ edition: EDITION, sent: 12, bouncedHard: 3, uniqueClicks: 4 });
    expect(collectRecent(db, 10)[1]).toMatchObject({
      edition: OLDER,
      sent: 3,
      unsubscribed: 1,
      uniqueClicks: 1,
    });
  });

  it('finds the latest edition a reader was sent', () => {
    expect(latestEditionSentTo(db, 1)).toBe(EDITION);
    expect(latestEditionSentTo(db, 13)).toBeNull(); // only deferred
    expect(latestEditionSentTo(db, 999)).toBeNull();
  });

  it('every query goes through an index: no full SCAN of sends, mail_events, clicks or opens', () => {
    const seen = new Set<string>();
    const prepare = db.prepare.bind(db);
    const spy = ((sql: string) => {
      seen.add(sql);
      return prepare(sql);
    }) as typeof db.prepare;
    Object.assign(db, { prepare: spy });
    try {
      collectReport(db, EDITION);
      collectRecent(db, 5);
      latestEditionSentTo(db, 1);
    } finally {
      Object.assign(db, { prepare });
    }
    expect(seen.size).toBeGreaterThan(10);
    for (const sql of seen) {
      const params = (sql.match(/\?/g) ?? []).map(() => EDITION);
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
        .map((p) => p.detail)
        .join('\n');
      // A SCAN of these tables (even USING an index: a walk of every entry) is what 1M readers cannot afford.
      expect(plan, sql).not.toMatch(/\bSCAN (sends|mail_events|clicks|opens|e|s|h)\b/);
    }
  });
});

describe('chart and text', () => {
  it('the SVG is well-formed, titled, escaped, with one bar per non-empty hour', () => {
    const hours = new Array(48).fill(0);
    hours[0] = 3;
    hours[5] = 12;
    const svg = clicksChart(hours, {
      labels: {
        title: 'Clicks <&> "48h"',
        xAxis: 'hours',
        yAxis: 'clicks',
        bar: (h, n) => `hour ${h}: ${n}`,
        desc: (t) => `${t} clicks`,
        empty: 'none',
      },
    });
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain('<title id="clicks-chart-t">Clicks &lt;&amp;&gt; &quot;48h&quot;</title>');
    expect(svg).toContain('role="img"');
    expect(svg.match(/<rect /g)).toHaveLength(2);
    expect(svg).toContain('<title>hour 5: 12</title>');
    expect(XMLValidator.validate(clicksChart(new Array(48).fill(0)))).toBe(true);
    expect([niceMax(0), niceMax(7), niceMax(12), niceMax(240)]).toEqual([1, 10, 20, 500]);
  });

  it('aligns columns by terminal width (Chinese takes two columns)', () => {
    expect(padCols('中文', 6)).toBe('中文  ');
    const lines = table(
      [
        ['中國AI突飛猛進', '12'],
        ['AI', '3'],
      ],
      new Set([1]),
      '',
    );
    expect(lines).toEqual(['中國AI突飛猛進  12', 'AI               3']);
    const text = formatReport(collectReport(db, EDITION), 'Asia/Hong_Kong');
    expect(text).toContain('first sent 2025-12-10 08:01 (Asia/Hong_Kong)');
    expect(text).toMatch(/sent +12 +incl\. 2 in doubt/);
    expect(text).toMatch(/ABOVE the 0\.3 %/);
  });
});
