import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  editionHash,
  MAX_LOCAL_PART,
  openVerpToken,
  tokenOfAddress,
  verpAddress,
  verpToken,
} from '../../src/delivery/verp.ts';
import { processInbound } from '../../src/inbound/process.ts';
import { FIXTURE_KEYS, fixture, inboundWorld, messageIdOf } from '../fixtures/inbound/store.ts';

// Inbound mail is written by strangers: whatever arrives, processInbound
// stores it and answers, and a reader is only ever named by something we
// issued (a VERP token, a ledger Message-ID, an unsubscribe token).

const FILES = readdirSync(new URL('../fixtures/inbound/', import.meta.url)).filter((f) => f.endsWith('.eml'));
const UNSUB_9 = 'v2.Da0AFOfF8Hh4yBYtlNeRT00Lu911d6_ZFaiDyMgbbQuZMQwvyHp0xteZLwosF9zYCol3md7gRg';

/** Whether `raw` still carries something that genuinely names reader n. */
function namesReader(raw: Buffer, n: number): boolean {
  const s = raw.toString('latin1');
  return (
    s.toLowerCase().includes(verpToken(FIXTURE_KEYS, 'daily-2025-12-10', n)) ||
    s.includes(messageIdOf(n)) ||
    (n === 9 && s.includes(UNSUB_9))
  );
}

type Mutation =
  | { op: 'truncate'; at: number }
  | { op: 'cut'; at: number; len: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'flip'; at: number; byte: number }
  | { op: 'dup'; at: number; len: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 400 }) }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.constantFrom(
        ...[
          '\r\n\r\n',
          '--',
          '\r\n--b--\r\n',
          'Content-Type: multipart/report; boundary=""\r\n',
          '=?utf-8?B?',
          '\u0000',
        ].map((s) => new Uint8Array(Buffer.from(s))),
      ),
    ),
  }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('dup' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 2000 }) }),
);

function mutate(raw: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(raw);
  for (const m of ms) {
    const at = b.length ? m.at % b.length : 0;
    if (m.op === 'truncate') b = b.subarray(0, at);
    else if (m.op === 'cut') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
    else if (m.op === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
    else if (m.op === 'flip' && b.length) b[at] = m.byte;
    else if (m.op === 'dup') b = Buffer.concat([b.subarray(0, at + m.len), b.subarray(at)]);
  }
  return b;
}

describe('inbound, property', () => {
  it('mutilated real reports never throw, and name a reader only when a genuine token or Message-ID survives', async () => {
    const w = inboundWorld();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FILES),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (file, ms) => {
          const raw = mutate(fixture(file), ms);
          const out = await processInbound(w.deps, raw, { source: 'inbound', rcptTo: [] });
          expect(['dsn', 'arf', 'unsubscribe', 'unknown']).toContain(out.classified);
          for (const e of out.events)
            if (e.subscriberId !== null) expect(namesReader(raw, e.subscriberId)).toBe(true);
        },
      ),
      { seed: 1515, numRuns: 100 },
    );
  });

  it('random bytes and random MIME-ish text never throw and never name a reader', async () => {
    const w = inboundWorld();
    const mimeish = fc
      .array(
        fc.oneof(
          fc.constantFrom(
            'Content-Type: multipart/report; report-type=delivery-status; boundary="x"',
            'Content-Type: message/delivery-status',
            'Content-Type: message/feedback-report',
            'Content-Type: message/rfc822',
            'Content-Type: text/rfc822-headers',
            'Feedback-Type: abuse',
            'Action: failed',
            'Status: 5.1.1',
            'From: MAILER-DAEMON@example.com',
            'Subject: Undelivered Mail Returned to Sender',
            'Subject: unsubscribe v2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
            'To: bounces+aaaaaaaaaaaaaaaaaaaaaaaaaa@news.example.com',
            'To: unsubscribe@news.example.com',
            'Message-ID: <daily-2025-12-10.5f3a9c1e.99@news.example.com>',
            '--x',
            '--x--',
            '',
          ),
          fc.string({ maxLength: 80 }),
        ),
        { maxLength: 40 },
      )
      .map((lines) => Buffer.from(lines.join('\r\n')));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 3000 }).map((u) => Buffer.from(u)),
          mimeish,
        ),
        async (raw) => {
          const out = await processInbound(w.deps, raw, {
            source: 'imap',
            rcptTo: ['bounces+aaaaaaaaaaaaaaaaaaaaaaaaaa@news.example.com'],
          });
          for (const e of out.events) expect(e.subscriberId).toBeNull();
        },
      ),
      { seed: 15, numRuns: 200 },
    );
    for (let n = 1; n <= 12; n++) expect(w.status(n)).toBe('active');
  });

  it('random tokens never open', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z2-7]{26}$/), (t) => {
        expect(openVerpToken(FIXTURE_KEYS, t)).toBeUndefined();
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('VERP round-trips any edition id and subscriber id up to 2^40; the local part fits in 64 and is lower-case', () => {
    const edition = fc
      .tuple(
        fc.stringMatching(/^[a-z][a-z0-9_]{0,60}$/),
        fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }),
      )
      .map(([name, d]) => `${name}-${d.toISOString().slice(0, 10)}`);
    fc.assert(
      fc.property(edition, fc.integer({ min: 0, max: 2 ** 40 }), (ed, id) => {
        const a = verpAddress('bounces@news.example.com', verpToken(FIXTURE_KEYS, ed, id));
        expect(a).toBe(a.toLowerCase());
        expect(Buffer.byteLength(a.split('@')[0]!)).toBeLessThanOrEqual(MAX_LOCAL_PART);
        const opened = openVerpToken(
          [Buffer.from('other'), ...FIXTURE_KEYS],
          tokenOfAddress(a.toUpperCase())!,
        );
        expect(opened?.subscriberId).toBe(id);
        expect(opened?.editionHash.equals(editionHash(ed))).toBe(true);
      }),
      { seed: 7, numRuns: 500 },
    );
  });
});
