import { describe, expect, it } from 'vitest';
import { v1Token } from '../../src/delivery/tokens.ts';
import { unsubscribeToken } from '../../src/delivery/unsubscribe.ts';
import { verpToken } from '../../src/delivery/verp.ts';
import { isBroadsheetError } from '../../src/errors/index.ts';
import { processInbound } from '../../src/inbound/process.ts';
import { purgeInbound } from '../../src/inbound/retention.ts';
import { forgetReader } from '../../src/store/privacy.ts';
import { FIXTURE_KEYS, fixture, inboundWorld, messageIdOf } from '../fixtures/inbound/store.ts';

const verp = (n: number, edition = 'daily-2025-12-10') =>
  `bounces+${verpToken(FIXTURE_KEYS, edition, n)}@news.example.com`;

/** A Postfix-shaped DSN for reader n with the given action/status and report Message-ID. */
function dsn(n: number, action: string, status: string, id: string, edition = 'daily-2025-12-10') {
  return Buffer.from(
    [
      'From: MAILER-DAEMON@mail.news.example.com (Mail Delivery System)',
      `To: ${verp(n, edition)}`,
      'Subject: Undelivered Mail Returned to Sender',
      `Message-Id: <${id}@mail.news.example.com>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'report',
      '--b',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mail.news.example.com',
      '',
      `Final-Recipient: rfc822; reader${n}@example.com`,
      `Action: ${action}`,
      `Status: ${status}`,
      `Diagnostic-Code: smtp; ${status.startsWith('5') ? '550' : '452'} ${status} something`,
      '',
      '--b--',
      '',
    ].join('\r\n'),
  );
}

const mailto = (subject: string, from = 'reader12@example.com') =>
  Buffer.from(
    `From: ${from}\r\nTo: unsubscribe@news.example.com\r\nSubject: ${subject}\r\nMessage-ID: <${Math.random()}@mail.example.com>\r\n\r\nunsubscribe please\r\n`,
  );

describe('processInbound', () => {
  it('soft bounces count once per message; three messages with soft bounces suppress (inbound.softBounceLimit)', async () => {
    const w = inboundWorld();
    for (const e of ['daily-2025-12-11', 'daily-2025-12-12'])
      w.db
        .prepare(
          `INSERT INTO sends (edition, subscriber_id, email, state, message_id, created_at, updated_at) VALUES (?, 6, 'reader6@example.com', 'sent', ?, ?, ?)`,
        )
        .run(e, `<${e}.x.6@news.example.com>`, `${e.slice(6)}T00:00:00Z`, `${e.slice(6)}T00:00:00Z`);
    const act = async (raw: Buffer) =>
      (await processInbound(w.deps, raw, { source: 'inbound', rcptTo: [] })).events[0];
    // the delay warning, then the final failure of the SAME message: one strike
    expect(await act(dsn(6, 'delayed', '4.2.2', 'd1'))).toMatchObject({
      kind: 'bounce_soft',
      action: 'counted',
    });
    expect(await act(dsn(6, 'failed', '4.2.2', 'd2'))).toMatchObject({
      kind: 'deferred',
      action: 'recorded',
    });
    expect(w.status(6)).toBe('active');
    expect(await act(dsn(6, 'failed', '4.2.2', 'd3', 'daily-2025-12-11'))).toMatchObject({
      action: 'counted',
    });
    expect(await act(dsn(6, 'failed', '4.2.2', 'd4', 'daily-2025-12-12'))).toMatchObject({
      kind: 'bounce_soft',
      action: 'bounced',
    });
    expect(w.status(6)).toBe('bounced');
  });

  it('the same report in two IMAP messages (two uids) counts once: the report Message-ID wins over the caller id', async () => {
    const w = inboundWorld();
    const raw = fixture('postfix-hard-5.1.1.eml');
    const a = await processInbound(w.deps, raw, { source: 'imap', rcptTo: [], externalId: 'imap:1:10' });
    const b = await processInbound(w.deps, raw, { source: 'imap', rcptTo: [], externalId: 'imap:1:11' });
    expect(a.events[0]!.action).toBe('bounced');
    expect(b.events[0]!.action).toBe('duplicate');
    // without a Message-ID the caller's id decides
    const bare = Buffer.from(raw.toString().replace(/^Message-Id: .*\n/m, ''));
    const c = await processInbound(w.deps, bare, { source: 'imap', rcptTo: [], externalId: 'imap:1:12' });
    const d = await processInbound(w.deps, bare, { source: 'imap', rcptTo: [], externalId: 'imap:1:12' });
    expect(c.events[0]!.action).toBe('kept-status');
    expect(d.events[0]!.action).toBe('duplicate');
  });

  it('a delivered DSN is recorded for the report and changes nothing', async () => {
    const w = inboundWorld();
    const out = await processInbound(w.deps, dsn(3, 'delivered', '2.0.0', 'ok1'), {
      source: 'inbound',
      rcptTo: [],
    });
    expect(out.events).toEqual([{ kind: 'delivered', subscriberId: 3, action: 'recorded' }]);
    expect(w.status(3)).toBe('active');
  });

  it('a forged or foreign VERP token attributes nothing, even in a real-looking hard DSN', async () => {
    const w = inboundWorld();
    const forged = dsn(3, 'failed', '5.1.1', 'f1')
      .toString()
      .replace(/bounces\+[a-z2-7]{26}/, 'bounces+aaaaaaaaaaaaaaaaaaaaaaaaaa');
    const out = await processInbound(w.deps, Buffer.from(forged), { source: 'inbound', rcptTo: [] });
    expect(out.events).toEqual([{ kind: 'bounce_hard', subscriberId: null, action: 'no-reader' }]);
    // a genuine token for an edition the reader was never sent
    const other = await processInbound(w.deps, dsn(3, 'failed', '5.1.1', 'f2', 'daily-2030-01-01'), {
      source: 'inbound',
      rcptTo: [],
    });
    expect(other.events[0]!.subscriberId).toBeNull();
    expect(w.status(3)).toBe('active');
  });

  it('the RCPT TO token wins over the returned Message-ID', async () => {
    const w = inboundWorld();
    const raw = Buffer.from(
      fixture('outlook-5.1.10.eml')
        .toString()
        .replace('To: <bounces@news.example.com>', `To: <${verp(5)}>`),
    );
    const out = await processInbound(w.deps, raw, { source: 'inbound', rcptTo: [verp(5)] });
    expect(out.events[0]).toMatchObject({ subscriberId: 5, action: 'bounced' });
    expect(w.status(4)).toBe('active');
  });

  it('mailto: a valid token (v2 or v1) unsubscribes, idempotently; without one nothing changes, even with a reader as From', async () => {
    const w = inboundWorld();
    const run = async (raw: Buffer) =>
      await processInbound(w.deps, raw, { source: 'inbound', rcptTo: ['unsubscribe@news.example.com'] });
    const v2 = unsubscribeToken(FIXTURE_KEYS, 'daily', 11);
    expect((await run(mailto(`unsubscribe ${v2}`))).events[0]).toMatchObject({
      kind: 'unsubscribe',
      subscriberId: 11,
      action: 'unsubscribed',
    });
    expect((await run(mailto(`Re: unsubscribe ${v2}`))).events[0]).toMatchObject({
      subscriberId: 11,
      action: 'kept-status',
    });
    const v1 = v1Token(FIXTURE_KEYS[0]!, 'daily', 'reader10@corp.example.com');
    expect((await run(mailto(`unsubscribe ${v1}`))).events[0]).toMatchObject({
      subscriberId: 10,
      action: 'unsubscribed',
    });
    const none = await run(mailto('unsubscribe'));
    expect(none.classified).toBe('unknown');
    expect(none.events[0]).toMatchObject({ kind: 'unknown', subscriberId: null, action: 'recorded' });
    const bad = await run(mailto(`unsubscribe ${v2.slice(0, -2)}xx`));
    expect(bad.classified).toBe('unknown');
    expect(w.status(12)).toBe('active');
    const ev = w.db
      .prepare("SELECT edition FROM mail_events WHERE kind = 'unsubscribe' AND subscriber_id = 11")
      .get() as { edition: string };
    expect(ev.edition).toBe('daily-2025-12-10');
  });

  it('junk is stored and unknown; an unreadable store fails with INBOUND_STORE_FAILED', async () => {
    const w = inboundWorld();
    const junk = Buffer.from([0, 255, 13, 10, 13, 10, 45, 45, 0]);
    const out = await processInbound(w.deps, junk, {
      source: 'inbound',
      rcptTo: ['bounces@news.example.com'],
    });
    expect(out.classified).toBe('unknown');
    expect(w.count('SELECT count(*) AS n FROM inbound_messages WHERE raw IS NOT NULL')).toBe(1);
    w.db.close();
    try {
      await processInbound(w.deps, junk, { source: 'inbound', rcptTo: [] });
      expect.unreachable();
    } catch (e) {
      expect(isBroadsheetError(e) && e.code).toBe('INBOUND_STORE_FAILED');
    }
  });

  it('purgeInbound drops old raw sources and keeps rows and events', async () => {
    let now = new Date('2025-12-10T12:00:00Z');
    const w = inboundWorld(() => now);
    await processInbound(w.deps, fixture('postfix-hard-5.1.1.eml'), { source: 'inbound', rcptTo: [] });
    now = new Date('2025-12-20T12:00:00Z');
    await processInbound(w.deps, fixture('spam.eml'), { source: 'inbound', rcptTo: [] });
    expect(purgeInbound(w.db, 30, now)).toBe(0);
    expect(purgeInbound(w.db, 5, now)).toBe(1);
    expect(w.count('SELECT count(*) AS n FROM inbound_messages WHERE raw IS NULL')).toBe(1);
    expect(w.count('SELECT count(*) AS n FROM inbound_messages')).toBe(2);
    expect(w.count('SELECT count(*) AS n FROM mail_events')).toBe(2);
  });

  it('forgetting a reader deletes the raw messages about them and clears event details', async () => {
    const w = inboundWorld();
    await processInbound(w.deps, fixture('postfix-hard-5.1.1.eml'), { source: 'inbound', rcptTo: [] });
    await processInbound(w.deps, fixture('gmail-5.1.1.eml'), { source: 'inbound', rcptTo: [] });
    expect(forgetReader(w.db, FIXTURE_KEYS, 'reader1@example.org', new Date())).toBe(true);
    expect(w.count('SELECT count(*) AS n FROM inbound_messages')).toBe(1);
    expect(
      w.count(
        'SELECT count(*) AS n FROM mail_events WHERE subscriber_id = 1 AND detail IS NULL AND inbound_id IS NULL',
      ),
    ).toBe(1);
    expect(w.count("SELECT count(*) AS n FROM inbound_messages WHERE raw LIKE '%reader1@%'")).toBe(0);
    expect(
      w.count('SELECT count(*) AS n FROM mail_events WHERE subscriber_id = 3 AND detail IS NOT NULL'),
    ).toBe(1);
  });

  it('a Message-ID quoted by a plain bounce must match the ledger exactly', async () => {
    const w = inboundWorld();
    const raw = Buffer.from(
      fixture('yahoo-failure-notice-554.eml')
        .toString()
        .replace(/bounces\+[a-z2-7]{26}/g, 'bounces')
        .replace(messageIdOf(5), messageIdOf(5).replace('.5@', '.55@')),
    );
    const out = await processInbound(w.deps, raw, {
      source: 'inbound',
      rcptTo: ['bounces@news.example.com'],
    });
    expect(out.events[0]).toMatchObject({ kind: 'bounce_hard', subscriberId: null, action: 'no-reader' });
    // the same bounce quoting the exact Message-ID names the reader
    const exact = Buffer.from(
      fixture('yahoo-failure-notice-554.eml')
        .toString()
        .replace(/bounces\+[a-z2-7]{26}/g, 'bounces'),
    );
    const hit = await processInbound(w.deps, exact, { source: 'imap', rcptTo: [] });
    expect(hit.events[0]).toMatchObject({ kind: 'bounce_hard', subscriberId: 5, action: 'bounced' });
  });
});
