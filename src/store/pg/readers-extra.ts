import { eventRow, INSERT_EVENT } from '../events.ts';
import type { PgPool } from './pool.ts';
import { dollars, tx } from './subscribers.ts';

// What the readers' links (/u/, issue 17) need on PostgreSQL beyond the
// subscribers and mail-events repositories: the SQLite code does these inside
// one better-sqlite3 transaction (src/review/unsubscribe.ts, src/report/collect.ts).

/**
 * The newest edition sent (or committed) to a reader, as latestEditionSentTo
 * on SQLite: sends has no index on subscriber_id, so the editions are walked
 * through the (edition, …) index and each probed — one seek per edition, not a
 * scan of a million rows per click.
 */
export async function latestEditionSentToPg(pool: PgPool, subscriberId: number): Promise<string | null> {
  const r = await pool.query<{ edition: string }>(
    `WITH RECURSIVE eds(x) AS (
       SELECT (SELECT min(edition) FROM sends)
       UNION ALL SELECT (SELECT min(edition) FROM sends WHERE edition > x) FROM eds WHERE x IS NOT NULL
     )
     SELECT s.edition FROM eds JOIN sends s ON s.edition = eds.x AND s.subscriber_id = $1
      WHERE s.state IN ('sent','committed')
      ORDER BY coalesce(s.sent_at, s.updated_at) DESC LIMIT 1`,
    [subscriberId],
  );
  return r.rows[0]?.edition ?? null;
}

/**
 * One-click unsubscribe: the reader's row is locked, and only an active reader
 * changes — the mail event (kind unsubscribe, source link, action unsubscribed)
 * and the status in one transaction. Two replicas handling one click (a mail
 * provider retrying) record it once. True when this call unsubscribed.
 */
export function unsubscribeByLink(
  pool: PgPool,
  subscriberId: number,
  edition: string | null,
  reason: string,
  now: Date,
): Promise<boolean> {
  return tx(pool, async (c) => {
    const s = (
      await c.query<{ status: string }>('SELECT status FROM subscribers WHERE id = $1 FOR UPDATE', [
        subscriberId,
      ])
    ).rows[0];
    if (s?.status !== 'active') return false;
    const iso = now.toISOString();
    const ins = await c.query<{ id: number }>(
      `${dollars(INSERT_EVENT)} RETURNING id`,
      eventRow({ kind: 'unsubscribe', source: 'link', subscriberId, edition, detail: reason }, now),
    );
    if (ins.rows[0])
      await c.query("UPDATE mail_events SET action = 'unsubscribed' WHERE id = $1", [ins.rows[0].id]);
    await c.query(
      "UPDATE subscribers SET status = 'unsubscribed', status_reason = $1, status_at = $2, updated_at = $2 WHERE id = $3",
      [reason, iso, subscriberId],
    );
    return true;
  });
}
