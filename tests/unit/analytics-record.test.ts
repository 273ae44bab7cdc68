import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyticsConfigSchema } from '../../src/analytics/config.ts';
import {
  clicksTimeline,
  scannerCount,
  uniqueClickers,
  uniqueClicksByStory,
} from '../../src/analytics/counts.ts';
import { recordClick } from '../../src/analytics/record.ts';
import { scannerAgent } from '../../src/analytics/scanner.ts';
import { openStore, SubscriberRepo } from '../../src/store/index.ts';
import { tempDir } from '../fixtures/delivery/ctx.ts';

const SECRET = Buffer.from('analytics-record-secret');
const ED = 'daily-2025-12-10';
const T0 = Date.parse('2025-12-10T00:00:00Z');
const UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148';

function setup(cfg: Record<string, unknown> = {}) {
  const db = openStore(join(tempDir('bs-clicks-'), 'data', 'b.db'));
  const config = analyticsConfigSchema.parse(cfg);
  const click = (
    story: string,
    atSec: number,
    o: { ip?: string; ua?: string; method?: string; sub?: number } = {},
  ) =>
    recordClick(db, SECRET, config, {
      edition: ED,
      story,
      method: o.method ?? 'GET',
      ip: o.ip ?? '192.0.2.1',
      userAgent: o.ua ?? UA,
      at: new Date(T0 + atSec * 1000),
      ...(o.sub !== undefined ? { subscriberId: o.sub } : {}),
    });
  const rows = () => db.prepare('SELECT story, scanner, subscriber_id, method FROM clicks ORDER BY id').all();
  return { db, click, rows };
}

describe('scanner filter', () => {
  it('a person following one link again and again, seconds apart, counts', () => {
    const { db, click } = setup();
    for (const s of [0, 3, 9, 15]) expect(click('a', s).scanner).toBe(false);
    expect(uniqueClicksByStory(db, ED)).toEqual([{ story: 'a', unique: 1, total: 4 }]);
    expect(scannerCount(db, ED)).toBe(0);
  });

  it('a person reading two stories a few seconds apart counts both', () => {
    const { db, click } = setup();
    click('a', 0);
    click('b', 1);
    click('c', 40);
    expect(uniqueClickers(db, ED)).toBe(1);
    expect(scannerCount(db, ED)).toBe(0);
  });

  it('three distinct stories within 2 s is a burst: all three marked, none counted', () => {
    const { db, click, rows } = setup();
    click('lead', 0);
    click('a', 0.4);
    expect(click('b', 0.8)).toEqual({ scanner: true, reason: 'burst' });
    expect(rows().map((r) => (r as { scanner: number }).scanner)).toEqual([1, 1, 1]);
    expect(uniqueClicksByStory(db, ED)).toEqual([]);
    expect(scannerCount(db, ED)).toBe(3);
  });

  it('a burst from another visitor (other IP) does not touch this one', () => {
    const { db, click } = setup();
    click('a', 0, { ip: '198.51.100.7' });
    for (const [i, s] of ['a', 'b', 'c', 'd'].entries()) click(s, i * 0.1);
    expect(uniqueClicksByStory(db, ED)).toEqual([{ story: 'a', unique: 1, total: 1 }]);
  });

  it('HEAD requests and scanner agents are recorded as scanners, never counted', () => {
    const { db, click } = setup({ scannerAgents: ['ExampleGate'] });
    expect(click('a', 0, { method: 'HEAD' })).toEqual({ scanner: true, reason: 'head' });
    expect(click('a', 10, { ua: 'Mozilla/5.0 (compatible; bingbot/2.0)' }).reason).toBe('agent');
    expect(click('a', 20, { ua: 'ExampleGate/1.0 link check' }).reason).toBe('agent');
    expect(click('a', 30, { ua: '' }).reason).toBe('agent');
    expect(click('a', 40, { ua: 'curl/8.5.0' }).scanner).toBe(false);
    expect(uniqueClicksByStory(db, ED)).toEqual([{ story: 'a', unique: 1, total: 1 }]);
    expect(scannerCount(db, ED)).toBe(4);
  });

  it('knows the built-in agents and lets browsers through', () => {
    expect(scannerAgent('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120')).toBe(false);
    expect(scannerAgent('Barracuda Sentinel (EE)')).toBe(true);
    expect(scannerAgent(undefined)).toBe(true);
  });

  it('with perReader: a click within scannerDelaySeconds of that reader’s delivery is a scanner', () => {
    const { db, click, rows } = setup({ perReader: true, scannerDelaySeconds: 60 });
    const subs = new SubscriberRepo(db);
    subs.upsert({ email: 'r@example.com' }, 'test');
    const id = subs.get('r@example.com')!.id;
    db.prepare(
      `INSERT INTO sends (edition, subscriber_id, email, state, message_id, created_at, updated_at, sent_at)
       VALUES (?, ?, 'r@example.com', 'sent', '<m@x>', ?, ?, ?)`,
    ).run(ED, id, new Date(T0).toISOString(), new Date(T0).toISOString(), new Date(T0).toISOString());
    expect(click('a', 5, { sub: id })).toEqual({ scanner: true, reason: 'delay' });
    expect(click('a', 300, { sub: id, ip: '203.0.113.9' }).scanner).toBe(false);
    expect(rows().map((r) => (r as { subscriber_id: number }).subscriber_id)).toEqual([id, id]);
    // A ref naming a reader no longer held stores no id.
    click('b', 400, { sub: 999_999 });
    expect((rows()[2] as { subscriber_id: number | null }).subscriber_id).toBeNull();
  });

  it('without perReader nothing names a reader', () => {
    const { click, rows } = setup();
    click('a', 0);
    expect(rows()).toEqual([{ story: 'a', scanner: 0, subscriber_id: null, method: 'GET' }]);
  });
});

describe('counts', () => {
  it('unique clicks are distinct visitors per story; the timeline buckets counted clicks by hour', () => {
    const { db, click } = setup();
    click('a', 10, { ip: '192.0.2.1' });
    click('a', 20, { ip: '192.0.2.2' });
    click('a', 3700, { ip: '192.0.2.1' });
    click('b', 7300, { ip: '192.0.2.3' });
    click('b', 7300.1, { ip: '192.0.2.3', method: 'HEAD' });
    expect(uniqueClicksByStory(db, ED)).toEqual([
      { story: 'a', unique: 2, total: 3 },
      { story: 'b', unique: 1, total: 1 },
    ]);
    expect(clicksTimeline(db, ED, new Date(T0), 3)).toEqual([2, 1, 1]);
    expect(clicksTimeline(db, ED, new Date(T0), 2)).toEqual([2, 1]);
    expect(scannerCount(db, ED)).toBe(1);
  });

  it('uses the indexes the migration made', () => {
    const { db } = setup();
    const plan = (sql: string) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(ED) as { detail: string }[])
        .map((r) => r.detail)
        .join('\n');
    expect(
      plan('SELECT story FROM clicks INDEXED BY clicks_edition WHERE edition = ? AND scanner = 0'),
    ).toContain('clicks_edition');
    expect(
      plan(
        "SELECT COUNT(DISTINCT story) FROM clicks WHERE visitor = 'x' AND at >= '1' AND at <= '2' AND edition = ?",
      ),
    ).toContain('clicks_visitor');
  });
});
