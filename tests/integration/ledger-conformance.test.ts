import { expect, it } from 'vitest';
import type { Backend } from '../../src/store/backend.ts';
import { type LedgerRow, type LedgerStore, ledgerFor } from '../../src/store/ledger.ts';
import { describeStores } from '../helpers/stores.ts';

// The send ledger's conformance suite (issue 17): the same tests on the SQLite
// Ledger and the PostgreSQL PgLedger, through the LedgerStore interface.

const ED = 'daily-2025-12-10';
const NOW = new Date('2025-12-10T07:00:00Z');

/** One statement with ? placeholders on either store. */
async function exec(b: Backend, sql: string, args: unknown[] = []) {
  if (b.kind === 'sqlite') return b.db.prepare(sql).run(...args);
  let i = 0;
  return b.pool.query(
    sql.replace(/\?/g, () => `$${++i}`),
    args,
  );
}

async function all<T>(b: Backend, sql: string, args: unknown[] = []): Promise<T[]> {
  if (b.kind === 'sqlite') return b.db.prepare(sql).all(...args) as T[];
  let i = 0;
  return (
    await b.pool.query(
      sql.replace(/\?/g, () => `$${++i}`),
      args,
    )
  ).rows as T[];
}

async function reader(
  b: Backend,
  email: string,
  o: { status?: string; editions?: string[]; pausedUntil?: string } = {},
) {
  await exec(
    b,
    `INSERT INTO subscribers (email, name, status, source, created_at, updated_at, editions, paused_until)
     VALUES (?, ?, ?, 'test', '2025-12-01T00:00:00Z', '2025-12-01T00:00:00Z', ?, ?)`,
    [
      email,
      email.split('@')[0],
      o.status ?? 'active',
      o.editions ? JSON.stringify(o.editions) : null,
      o.pausedUntil ?? null,
    ],
  );
}

async function collect(it: Iterable<LedgerRow> | AsyncIterable<LedgerRow>) {
  const out: LedgerRow[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describeStores('send ledger', (s) => {
  const setup = async (): Promise<[Backend, LedgerStore]> => {
    const b = await s.open();
    return [b, ledgerFor(b, { worker: 'w1', now: () => NOW })];
  };

  it('enqueue: active readers only, preferences and pauses honoured, idempotent', async () => {
    const [b, l] = await setup();
    await reader(b, 'a@example.com');
    await reader(b, 'gone@example.com', { status: 'unsubscribed' });
    await reader(b, 'paused@example.com', { pausedUntil: '2025-12-20' });
    await reader(b, 'resumed@example.com', { pausedUntil: '2025-12-10' });
    await reader(b, 'daily@example.com', { editions: ['daily'] });
    await reader(b, 'other@example.com', { editions: ['daily_en'] });
    expect(await l.wouldSend(ED)).toHaveLength(3);
    expect(await l.enqueue(ED, 'example.com')).toBe(3);
    expect(await l.enqueue(ED, 'example.com')).toBe(0);
    const rows = await l.pending(ED);
    expect(rows.map((r) => r.email)).toEqual(['a@example.com', 'resumed@example.com', 'daily@example.com']);
    expect(rows[0]).toMatchObject({ edition: ED, state: 'queued', attempts: 0, subscriberStatus: 'active' });
    expect(rows[0]!.messageId).toMatch(/^<daily-2025-12-10\.[0-9a-f]{8}\.\d+@example\.com>$/);
    expect(await l.pendingCount(ED)).toBe(3);
    expect(await l.pendingCount(ED, 2)).toBe(2);
    expect(await l.pending(ED, 1)).toHaveLength(1);
  });

  it('pendingStream pages through the rows in subscriber order', async () => {
    const [b, l] = await setup();
    for (let i = 0; i < 7; i++) await reader(b, `r${i}@example.com`);
    await l.enqueue(ED, 'example.com');
    const rows = await collect(l.pendingStream(ED, undefined, 3));
    expect(rows.map((r) => r.email)).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `r${i}@example.com`));
    expect(await collect(l.pendingStream(ED, 4, 3))).toHaveLength(4);
  });

  it('commit, sent, failed with bounce, in doubt, suppressed: states and counts', async () => {
    const [b, l] = await setup();
    for (const e of ['s', 'f', 'd', 'x', 'q']) await reader(b, `${e}@example.com`);
    await l.enqueue(ED, 'example.com');
    const [s1, f1, d1, x1] = (await l.pending(ED)).map((r) => r.subscriberId);
    expect(await l.markCommitted(ED, s1!, 'smtp')).toBe(true);
    await l.markSent(ED, s1!, '250 ok');
    await l.markCommitted(ED, f1!, 'smtp');
    await l.markFailed(ED, f1!, 'failed', '550 5.1.1 no such user', { countAttempt: false, bounce: true });
    await l.markCommitted(ED, d1!, 'smtp');
    await l.markInDoubt(ED, d1!, 'no reply to the end of data');
    await l.markSuppressed(ED, x1!, 'subscriber unsubscribed');
    await l.flush();
    expect(await l.counts(ED)).toEqual({
      queued: 1,
      committed: 1,
      sent: 1,
      deferred: 0,
      failed: 1,
      suppressed: 1,
    });
    const rows = await all<{
      email: string;
      attempts: number;
      last_error: string | null;
      response: string | null;
    }>(
      b,
      'SELECT email, attempts, last_error, response FROM sends WHERE edition = ? ORDER BY subscriber_id',
      [ED],
    );
    expect(rows[0]).toMatchObject({ attempts: 1, response: '250 ok', last_error: null });
    expect(rows[1]).toMatchObject({ attempts: 1, last_error: '550 5.1.1 no such user' });
    expect(rows[2]).toMatchObject({ last_error: 'no reply to the end of data' });
    const st = await all<{ email: string; status: string }>(
      b,
      'SELECT email, status FROM subscribers ORDER BY id',
    );
    expect(st.map((r) => r.status)).toEqual(['active', 'bounced', 'active', 'active', 'active']);
    // Settled rows are not pending; a deferred one is, with its attempt counted.
    await l.markFailed(ED, (await l.pending(ED))[0]!.subscriberId, 'deferred', '451 try later', {
      countAttempt: true,
    });
    expect((await l.pending(ED)).map((r) => [r.email, r.state, r.attempts])).toEqual([
      ['q@example.com', 'deferred', 1],
    ]);
  });

  // Several workers on one store: PostgreSQL only (SQLite has one sender per edition, by its lease).
  if (s.kind === 'postgres')
    it('markCommitted is a compare-and-set between workers', async () => {
      const b = await s.open();
      await reader(b, 'a@example.com');
      await reader(b, 'b@example.com');
      const w1 = ledgerFor(b, {
        worker: 'w1',
        now: () => NOW,
      }) as import('../../src/store/pg/ledger.ts').PgLedger;
      const w2 = ledgerFor(b, {
        worker: 'w2',
        now: () => NOW,
      }) as import('../../src/store/pg/ledger.ts').PgLedger;
      await w1.enqueue(ED, 'example.com');
      const mine = await w1.claim(ED, 0, 1000, 60_000);
      expect(mine).toHaveLength(2);
      expect(await w2.claim(ED, 0, 1000, 60_000)).toHaveLength(0);
      // w2 may not commit a row w1 holds; w1 may, once.
      expect(await w2.markCommitted(ED, mine[0]!.subscriberId, 'smtp')).toBe(false);
      expect(await w1.markCommitted(ED, mine[0]!.subscriberId, 'smtp')).toBe(true);
      expect(await w1.markCommitted(ED, mine[0]!.subscriberId, 'smtp')).toBe(false);
      // A lapsed claim is taken over.
      await exec(b, 'UPDATE sends SET claimed_until = 0 WHERE subscriber_id = ?', [mine[1]!.subscriberId]);
      expect((await w2.claim(ED, 0, 1000, 60_000)).map((r) => r.subscriberId)).toEqual([
        mine[1]!.subscriberId,
      ]);
      expect(await w1.markCommitted(ED, mine[1]!.subscriberId, 'smtp')).toBe(false);
      expect(await w2.markCommitted(ED, mine[1]!.subscriberId, 'smtp')).toBe(true);
      // Racing commits on one unclaimed row: exactly one wins.
      await reader(b, 'c@example.com');
      await w1.enqueue(ED, 'example.com');
      const c = (await w1.pending(ED))[0]!.subscriberId;
      const wins = await Promise.all(
        Array.from({ length: 8 }, (_, i) => ledgerFor(b, { worker: `r${i}` }).markCommitted(ED, c, 'smtp')),
      );
      expect(wins.filter(Boolean)).toHaveLength(1);
    });
});
