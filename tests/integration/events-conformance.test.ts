import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, closeBackend, openBackend } from '../../src/store/backend.ts';
import { EVENT_KINDS, type EventKind, type MailEventInput, mailEventsFor } from '../../src/store/events.ts';
import { subscribersFor } from '../../src/store/subscribers.ts';
import { suppressionFor } from '../../src/store/suppression.ts';
import { freshPgDatabase, needsPostgres, type PgTestDb } from '../helpers/pg.ts';
import { describeStores, STORE_CONFIG } from '../helpers/stores.ts';

// Mail events (issue 17): the policy of src/store/events.ts — unique source +
// external id, hard and soft bounce rules, complaint, unsubscribe, never weaken
// a status — the same on SQLite and PostgreSQL; on PostgreSQL also when events
// for one reader arrive at once on several connections (hosts).

const KEYS = [Buffer.alloc(32, 7)];
const POLICY = { softBounceLimit: 3, softBounceWindowDays: 30 };
const NOW = new Date('2026-11-30T08:00:00.000Z');

async function readers(b: Backend, n: number): Promise<number[]> {
  const subs = subscribersFor(b, () => NOW);
  await subs.upsertMany(
    Array.from({ length: n }, (_, i) => ({ email: `r${i}@example.com` })),
    'cli',
  );
  return (await subs.list()).map((s) => s.id);
}

describeStores('mail events', (s) => {
  it('a hard bounce marks bounced and suppresses; a repeat of its (source, external id) is ignored', async () => {
    const b = await s.open();
    const [a, other] = await readers(b, 2);
    const ev = mailEventsFor(b, KEYS, POLICY, () => NOW);
    const e = {
      kind: 'bounce_hard',
      source: 'inbound',
      subscriberId: a,
      status: '5.1.1',
      externalId: '<d1@mx>',
    } as const;
    expect(await ev.record(e)).toMatchObject({ action: 'bounced' });
    expect(await ev.record(e)).toEqual({ id: undefined, action: 'duplicate' });
    // The same id from another source is another event.
    expect((await ev.record({ ...e, source: 'ses' })).action).toBe('kept-status');
    const subs = subscribersFor(b);
    expect(await subs.byId(a!)).toMatchObject({
      status: 'bounced',
      statusReason: 'inbound: bounce_hard 5.1.1',
    });
    expect(await subs.byId(other!)).toMatchObject({ status: 'active' });
    expect(await suppressionFor(b, KEYS).reason('r0@example.com')).toBe('bounced');
  });

  it('soft bounces count within the window; the limit marks bounced; older ones do not count', async () => {
    const b = await s.open();
    const [a] = await readers(b, 1);
    let now = new Date('2026-09-01T00:00:00.000Z');
    const ev = mailEventsFor(b, KEYS, POLICY, () => now);
    const soft = async () =>
      (await ev.record({ kind: 'bounce_soft', source: 'inbound', subscriberId: a, status: '4.2.2' })).action;
    expect(await soft()).toBe('counted');
    now = NOW; // the first is now outside 30 days
    expect(await soft()).toBe('counted');
    expect(await soft()).toBe('counted');
    expect(await soft()).toBe('bounced');
    expect((await subscribersFor(b).byId(a!))!.statusReason).toBe('3 soft bounces in 30 days (inbound)');
    expect(await soft()).toBe('kept-status');
  });

  it('a complaint outranks a bounce; an unsubscribe never weakens either; delivered and unknown change nothing', async () => {
    const b = await s.open();
    const [a, c] = await readers(b, 2);
    const ev = mailEventsFor(b, KEYS, POLICY, () => NOW);
    const rec = async (kind: EventKind, subscriberId: number | null | undefined) =>
      (await ev.record({ kind, source: 'sendgrid', subscriberId, edition: 'daily-2026-11-30' })).action;
    expect(await rec('delivered', a)).toBe('recorded');
    expect(await rec('unknown', a)).toBe('recorded');
    expect(await rec('unsubscribe', a)).toBe('unsubscribed');
    expect(await rec('unsubscribe', a)).toBe('kept-status');
    expect(await suppressionFor(b, KEYS).count()).toBe(0); // an unsubscribe is not suppressed
    expect(await rec('complaint', a)).toBe('complained');
    expect(await rec('bounce_hard', a)).toBe('kept-status');
    expect(await rec('bounce_hard', c)).toBe('bounced');
    expect(await rec('unsubscribe', c)).toBe('kept-status');
    expect(await rec('complaint', null)).toBe('no-reader');
    const subs = subscribersFor(b);
    expect([(await subs.byId(a!))!.status, (await subs.byId(c!))!.status]).toEqual(['complained', 'bounced']);
    expect(await suppressionFor(b, KEYS).reason('r0@example.com')).toBe('complained');
  });

  it('finds a send by its Message-ID (with or without brackets) and the latest send to an address', async () => {
    const b = await s.open();
    const [a] = await readers(b, 1);
    const ev = mailEventsFor(b, KEYS, POLICY, () => NOW);
    const insert = (edition: string, mid: string, updated: string) => {
      const sql = `INSERT INTO sends (edition, subscriber_id, email, state, message_id, created_at, updated_at)
                   VALUES ('${edition}', ${a}, 'r0@example.com', 'sent', '${mid}', '${updated}', '${updated}')`;
      return b.kind === 'sqlite' ? b.db.exec(sql) : b.pool.query(sql);
    };
    await insert('daily-2026-11-29', '<m1@x>', '2026-11-29T08:00:00.000Z');
    await insert('daily-2026-11-30', '<m2@x>', '2026-11-30T08:00:00.000Z');
    expect(await ev.sendByMessageId(' m1@x ')).toEqual({ edition: 'daily-2026-11-29', subscriberId: a });
    expect(await ev.sendByMessageId('<nope@x>')).toBeUndefined();
    expect(await ev.latestSendTo('R0@example.com')).toEqual({ edition: 'daily-2026-11-30', subscriberId: a });
    expect(await ev.latestSendTo('nobody@example.com')).toBeUndefined();
  });
});

// ---- PostgreSQL: concurrency, and the same outcomes as SQLite for random event streams ----

const pgOk = await needsPostgres();

describe.skipIf(!pgOk)('mail events across connections and stores [postgres + sqlite]', () => {
  let pgdb: PgTestDb;
  let pg: Backend;
  let dir: string;
  beforeAll(async () => {
    pgdb = await freshPgDatabase();
    pg = await openBackend({ kind: 'postgres', url: pgdb.url }, { ...STORE_CONFIG, poolMax: 6 });
    dir = mkdtempSync(join(tmpdir(), 'bs-events-prop-'));
  });
  afterAll(async () => {
    if (pg) await closeBackend(pg);
    await pgdb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const emptyPg = () =>
    (pg as Extract<Backend, { kind: 'postgres' }>).pool.query(
      'TRUNCATE mail_events, suppression, consent, sends, subscribers RESTART IDENTITY CASCADE',
    );

  it('six soft bounces for one reader at once: two counted, one bounced, three kept — as one after another', async () => {
    await emptyPg();
    const [a] = await readers(pg, 1);
    const ev = mailEventsFor(pg, KEYS, POLICY, () => NOW);
    const actions = await Promise.all(
      Array.from({ length: 6 }, () => ev.record({ kind: 'bounce_soft', source: 'inbound', subscriberId: a })),
    );
    expect(actions.map((x) => x.action).sort()).toEqual([
      'bounced',
      'counted',
      'counted',
      'kept-status',
      'kept-status',
      'kept-status',
    ]);
    // The same webhook delivered five times at once is stored once.
    const twins = await Promise.all(
      Array.from({ length: 5 }, () =>
        ev.record({ kind: 'complaint', source: 'ses', subscriberId: a, externalId: 'evt-1' }),
      ),
    );
    expect(twins.filter((x) => x.action !== 'duplicate').map((x) => x.action)).toEqual(['complained']);
  });

  const event = fc.record({
    kind: fc.constantFrom(...EVENT_KINDS),
    reader: fc.integer({ min: 0, max: 4 }), // 4 = no reader named
    source: fc.constantFrom('inbound', 'ses', 'sendgrid' as const),
    // A small pool of external ids: repeats (duplicates) happen often.
    ext: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
    daysAgo: fc.constantFrom(0, 1, 10, 29, 45),
  });

  it('random event streams: the same actions, statuses and suppressions on both stores; at once on PostgreSQL, the same final statuses', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 30 }), async (stream) => {
        const sqlite = await openBackend({ kind: 'sqlite', file: join(dir, `p${run++}.db`) }, STORE_CONFIG);
        try {
          await emptyPg();
          const ids = { sqlite: await readers(sqlite, 4), pg: await readers(pg, 4) };
          const input = (e: (typeof stream)[number], who: number[]): MailEventInput => ({
            kind: e.kind,
            source: e.source,
            subscriberId: e.reader < 4 ? who[e.reader] : null,
            // Same external id → same event (a provider's retry), so order cannot change what a duplicate holds.
            externalId: e.ext === undefined ? null : `${e.kind}-${e.reader}-${e.daysAgo}-${e.ext}`,
            occurredAt: new Date(NOW.getTime() - e.daysAgo * 86_400_000),
          });
          const one = mailEventsFor(sqlite, KEYS, POLICY, () => NOW);
          const two = mailEventsFor(pg, KEYS, POLICY, () => NOW);
          const a: string[] = [];
          const p: string[] = [];
          for (const e of stream) {
            a.push((await one.record(input(e, ids.sqlite))).action);
            p.push((await two.record(input(e, ids.pg))).action);
          }
          expect(p).toEqual(a);
          const statuses = async (b: Backend) =>
            (await subscribersFor(b).list()).map((x) => [x.email, x.status, x.statusReason]);
          const sup = async (b: Backend) =>
            Promise.all(
              ['r0', 'r1', 'r2', 'r3'].map((r) => suppressionFor(b, KEYS).reason(`${r}@example.com`)),
            );
          const final = await statuses(sqlite);
          expect(await statuses(pg)).toEqual(final);
          expect(await sup(pg)).toEqual(await sup(sqlite));
          // The same stream recorded all at once on PostgreSQL ends in the same statuses.
          await emptyPg();
          const again = await readers(pg, 4);
          await Promise.all(stream.map((e) => two.record(input(e, again))));
          expect((await statuses(pg)).map((x) => x.slice(0, 2))).toEqual(final.map((x) => x.slice(0, 2)));
          expect(await sup(pg)).toEqual(await sup(sqlite));
        } finally {
          await closeBackend(sqlite);
        }
      }),
      { seed: 20261130, numRuns: 25, endOnFailure: true },
    );
  });
});
