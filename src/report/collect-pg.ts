import type { PgPool } from '../store/pg/pool.ts';
import { dollars } from '../store/pg/subscribers.ts';
import {
  assembleReport,
  type ClickRow,
  ClickTally,
  type CollectOptions,
  type EditionCounts,
  type EditionReport,
  emptyLedger,
  manifestTitles,
  type ReportSummary,
  SQL,
  summaryOf,
} from './collect.ts';

// The edition report on the PostgreSQL store (issue 17): the same queries
// (collect.ts SQL, numbered placeholders) and the same assembly, so both stores
// give the same numbers for the same rows. Run in one REPEATABLE READ, READ
// ONLY transaction: a send or a click committed while the report is read is in
// every number or in none. `report` opens the store with migrate: false.

const SEND_EDITIONS = `WITH RECURSIVE eds(x) AS (
  SELECT (SELECT min(edition) FROM sends)
  UNION ALL SELECT (SELECT min(edition) FROM sends WHERE edition > x) FROM eds WHERE x IS NOT NULL
) SELECT x FROM eds WHERE x IS NOT NULL`;

type Q = { query: PgPool['query'] };

async function one<T>(q: Q, sql: string, args: unknown[]): Promise<T> {
  const r = await q.query({ text: dollars(sql), values: args, rowMode: 'array' });
  return (r.rows[0] as unknown[] | undefined)?.[0] as T;
}

/** Whether the store has been migrated far enough to hold sends (a never-migrated database has no tables). */
export async function pgHasSends(pool: PgPool): Promise<boolean> {
  return Boolean(await one(pool, "SELECT to_regclass('public.sends') IS NOT NULL", []));
}

/** Run `fn` in one read-only snapshot. */
async function snapshot<T>(pool: PgPool, fn: (q: Q) => Promise<T>): Promise<T> {
  const { withTransaction } = await import('../store/pg/pool.ts');
  return withTransaction(
    pool,
    async (c) => {
      await c.query('SET TRANSACTION READ ONLY');
      return fn(c);
    },
    'REPEATABLE READ',
  );
}

async function firstSend(q: Q, edition: string): Promise<string | null> {
  const sent = await one<string | null>(
    q,
    'SELECT min(sent_at) FROM sends WHERE edition = ? AND sent_at IS NOT NULL',
    [edition],
  );
  if (sent) return sent;
  // SQLite answers LIMIT 1 from the primary key (edition, subscriber_id): the same row here.
  return (
    (await one<string>(q, 'SELECT created_at FROM sends WHERE edition = ? ORDER BY subscriber_id LIMIT 1', [
      edition,
    ])) ?? null
  );
}

async function editions(q: Q): Promise<{ edition: string; firstSentAt: string | null }[]> {
  const names = (await q.query({ text: SEND_EDITIONS, rowMode: 'array' })).rows.map((r) => r[0] as string);
  const out: { edition: string; firstSentAt: string | null }[] = [];
  for (const edition of names) out.push({ edition, firstSentAt: await firstSend(q, edition) });
  return out.sort(
    (a, b) => (b.firstSentAt ?? '').localeCompare(a.firstSentAt ?? '') || b.edition.localeCompare(a.edition),
  );
}

async function report(q: Q, edition: string, opts: CollectOptions): Promise<EditionReport> {
  const ledger = emptyLedger();
  const states = await q.query<{ state: keyof typeof ledger; n: number }>(
    'SELECT state, count(*) AS n FROM sends WHERE edition = $1 GROUP BY state',
    [edition],
  );
  for (const r of states.rows) {
    ledger[r.state] = r.n;
    ledger.total += r.n;
  }
  const firstSentAt = ledger.total ? await firstSend(q, edition) : null;
  const readers = (kind: string) =>
    one<number>(
      q,
      'SELECT count(DISTINCT subscriber_id) FROM mail_events WHERE edition = ? AND kind = ? AND subscriber_id IS NOT NULL',
      [edition, kind],
    );
  const bySource: Record<string, number> = {};
  for (const r of (await q.query<{ source: string; n: number }>(dollars(SQL.bySource), [edition])).rows)
    bySource[r.source] = r.n;
  const opens = (await q.query<{ total: number; uniq: number }>(dollars(SQL.opens), [edition])).rows[0]!;
  const tally = new ClickTally(firstSentAt);
  tally.scannerFiltered = await one<number>(q, SQL.scanners, [edition]);
  const clicks = await q.query({ text: dollars(SQL.clicks), values: [edition], rowMode: 'array' });
  for (const r of clicks.rows) tally.add(r as ClickRow);
  const counts: EditionCounts = {
    ledger,
    firstSentAt,
    readers: {
      delivered: await readers('delivered'),
      deferred: await readers('deferred'),
      complaint: await readers('complaint'),
      unsubscribe: await readers('unsubscribe'),
    },
    unattributed: await one<number>(q, SQL.unattributed, [edition]),
    hard: await one<number>(q, SQL.hard, [edition, edition]),
    soft: await one<number>(q, SQL.soft, [edition]),
    bouncedAfterSend: await one<number>(q, SQL.bouncedAfterSend, [edition]),
    bySource,
    scannerFiltered: tally.scannerFiltered,
    opens,
  };
  return assembleReport(edition, counts, tally, manifestTitles(opts.outDir, edition), opts.top ?? 5);
}

export const pgSentEditions = (pool: PgPool) => snapshot(pool, editions);

export const pgEditionExists = async (pool: PgPool, edition: string) =>
  (await one<number>(pool, 'SELECT 1 FROM sends WHERE edition = ? LIMIT 1', [edition])) === 1;

export const pgCollectReport = (pool: PgPool, edition: string, opts: CollectOptions = {}) =>
  snapshot(pool, (q) => report(q, edition, opts));

export const pgCollectRecent = (pool: PgPool, n: number, opts: CollectOptions = {}) =>
  snapshot(pool, async (q): Promise<ReportSummary[]> => {
    const out: ReportSummary[] = [];
    for (const e of (await editions(q)).slice(0, n)) out.push(summaryOf(await report(q, e.edition, opts)));
    return out;
  });
