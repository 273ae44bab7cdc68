import { describe, expect, it } from 'vitest';
import { processInbound } from '../../src/inbound/process.ts';
import { SuppressionList } from '../../src/store/suppression.ts';
import { FIXTURE_KEYS, fixture, inboundWorld, READERS } from '../fixtures/inbound/store.ts';

// Each realistic report in tests/fixtures/inbound/: what it is, whom it names, what happens.
const VERP = (token: string) => `bounces+${token}@news.example.com`;
const cases: {
  file: string;
  rcpt: string[];
  classified: string;
  kind: string;
  reader: number | null;
  action: string;
  status: string;
}[] = [
  {
    file: 'postfix-hard-5.1.1.eml',
    rcpt: [VERP('qxwcugmiev2aazoz42gadgkqjy')],
    classified: 'dsn',
    kind: 'bounce_hard',
    reader: 1,
    action: 'bounced',
    status: 'bounced',
  },
  {
    file: 'exim-plain-550.eml',
    rcpt: [VERP('wto2amcvsu5vi3eymvyed5pmii')],
    classified: 'dsn',
    kind: 'bounce_hard',
    reader: 2,
    action: 'bounced',
    status: 'bounced',
  },
  {
    file: 'gmail-5.1.1.eml',
    rcpt: [VERP('dxdsudou7e7qb2qn77g5eijjy4')],
    classified: 'dsn',
    kind: 'bounce_hard',
    reader: 3,
    action: 'bounced',
    status: 'bounced',
  },
  // Sent to the plain bounce address (VERP off at the time): the returned headers' Message-ID names the reader.
  {
    file: 'outlook-5.1.10.eml',
    rcpt: ['bounces@news.example.com'],
    classified: 'dsn',
    kind: 'bounce_hard',
    reader: 4,
    action: 'bounced',
    status: 'bounced',
  },
  {
    file: 'yahoo-failure-notice-554.eml',
    rcpt: [VERP('46uzh7tiacghaqeu2ld6rsbhrq')],
    classified: 'dsn',
    kind: 'bounce_hard',
    reader: 5,
    action: 'bounced',
    status: 'bounced',
  },
  {
    file: 'postfix-delayed-4.2.2.eml',
    rcpt: [VERP('wtgdikw7ojz52m5pgg2atta57u')],
    classified: 'dsn',
    kind: 'bounce_soft',
    reader: 6,
    action: 'counted',
    status: 'active',
  },
  {
    file: 'yahoo-arf-abuse.eml',
    rcpt: ['fbl@news.example.com'],
    classified: 'arf',
    kind: 'complaint',
    reader: 7,
    action: 'complained',
    status: 'complained',
  },
  {
    file: 'microsoft-jmrp.eml',
    rcpt: ['fbl@news.example.com'],
    classified: 'arf',
    kind: 'complaint',
    reader: 8,
    action: 'complained',
    status: 'complained',
  },
  {
    file: 'gmail-mailto-unsubscribe.eml',
    rcpt: ['unsubscribe@news.example.com'],
    classified: 'unsubscribe',
    kind: 'unsubscribe',
    reader: 9,
    action: 'unsubscribed',
    status: 'unsubscribed',
  },
  {
    file: 'out-of-office.eml',
    rcpt: [VERP('qmyls4exaiue2ytnehsg57n7am')],
    classified: 'unknown',
    kind: 'unknown',
    reader: null,
    action: 'recorded',
    status: 'active',
  },
  {
    file: 'spam.eml',
    rcpt: [VERP('x2ioobjitl5jn2aqodclqhu4o4')],
    classified: 'unknown',
    kind: 'unknown',
    reader: null,
    action: 'recorded',
    status: 'active',
  },
];

describe('inbound fixtures', () => {
  for (const c of cases)
    it(`${c.file}: ${c.classified} → ${c.kind}, reader ${c.reader ?? 'none'}, ${c.action}`, async () => {
      const w = inboundWorld();
      const raw = fixture(c.file);
      const out = await processInbound(w.deps, raw, { source: 'inbound', rcptTo: c.rcpt, mailFrom: '' });
      expect(out.classified).toBe(c.classified);
      expect(out.events).toEqual([{ kind: c.kind, subscriberId: c.reader, action: c.action }]);
      // Nobody else changed.
      for (let n = 1; n <= READERS.length; n++)
        expect(w.status(n)).toBe(n === c.reader ? c.status : 'active');
      // The raw message is stored, classified, tied to its event.
      const row = w.db
        .prepare('SELECT classified, raw, size FROM inbound_messages WHERE id = ?')
        .get(out.inboundId) as {
        classified: string;
        raw: Buffer;
        size: number;
      };
      expect(row.classified).toBe(c.classified);
      expect(Buffer.compare(row.raw, raw)).toBe(0);
      expect(w.count('SELECT count(*) AS n FROM mail_events WHERE inbound_id = ?', out.inboundId)).toBe(1);
      if (c.status === 'bounced' || c.status === 'complained')
        expect(new SuppressionList(w.db, FIXTURE_KEYS).reason(READERS[c.reader! - 1]!)).toBe(c.status);

      // Re-delivery of the same message changes nothing.
      const again = await processInbound(w.deps, raw, { source: 'inbound', rcptTo: c.rcpt, mailFrom: '' });
      expect(again.events.map((e) => e.action)).toEqual(['duplicate']);
      expect(again.inboundId).toBe(out.inboundId);
      expect(w.count('SELECT count(*) AS n FROM mail_events')).toBe(1);
      expect(w.count('SELECT count(*) AS n FROM inbound_messages')).toBe(1);
    });

  it('the edition is attributed: events carry daily-2025-12-10 and the DSN status', async () => {
    const w = inboundWorld();
    await processInbound(w.deps, fixture('gmail-5.1.1.eml'), { source: 'imap', rcptTo: [] });
    const e = w.db.prepare('SELECT edition, status, source, detail FROM mail_events').get() as Record<
      string,
      string
    >;
    expect(e).toMatchObject({ edition: 'daily-2025-12-10', status: '5.1.1', source: 'imap' });
    expect(e.detail).toMatch(/^failed: 550-5\.1\.1/);
  });
});
