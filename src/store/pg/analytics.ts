import type { AnalyticsConfig } from '../../analytics/config.ts';
import type { Hit, Recorded } from '../../analytics/record.ts';
import type { PgPool } from './pool.ts';
import { tx } from './subscribers.ts';

// Clicks and opens on the PostgreSQL store (issue 17): recordClick's rules
// (src/analytics/record.ts) for `serve` replicas behind a load balancer. One
// visitor's clicks may land on different replicas at once, so the burst rule
// runs under a transaction-scoped advisory lock on the visitor: the click that
// completes a burst always sees the others and marks them all.

export function recordClickPg(
  pool: PgPool,
  cfg: AnalyticsConfig,
  hit: Hit & { story: string },
  visitor: string,
  early: Recorded['reason'],
): Promise<Recorded> {
  const at = hit.at.toISOString();
  let reason = early;
  return tx(pool, async (c) => {
    await c.query("SELECT pg_advisory_xact_lock(hashtext('clicks:' || $1))", [visitor]);
    // A reader that no longer exists is stored as NULL (the column's foreign key).
    const subscriber =
      hit.subscriberId === undefined
        ? null
        : ((await c.query<{ id: number }>('SELECT id FROM subscribers WHERE id = $1', [hit.subscriberId]))
            .rows[0]?.id ?? null);
    if (!reason && subscriber !== null && cfg.scannerDelaySeconds > 0) {
      const row = (
        await c.query<{ sent_at: string | null }>(
          'SELECT sent_at FROM sends WHERE edition = $1 AND subscriber_id = $2',
          [hit.edition, subscriber],
        )
      ).rows[0];
      const sent = row?.sent_at ? Date.parse(row.sent_at) : Number.NaN;
      if (Number.isFinite(sent) && hit.at.getTime() - sent < cfg.scannerDelaySeconds * 1000) reason = 'delay';
    }
    await c.query(
      `INSERT INTO clicks (edition, story, subscriber_id, visitor, method, scanner, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [hit.edition, hit.story, subscriber, visitor, hit.method, reason ? 1 : 0, at],
    );
    if (hit.method !== 'HEAD') {
      const since = new Date(hit.at.getTime() - cfg.burst.seconds * 1000).toISOString();
      const { n } = (
        await c.query<{ n: number }>(
          `SELECT COUNT(DISTINCT story) AS n FROM clicks
            WHERE visitor = $1 AND at >= $2 AND at <= $3 AND edition = $4 AND method <> 'HEAD'`,
          [visitor, since, at, hit.edition],
        )
      ).rows[0]!;
      if (n >= cfg.burst.links) {
        await c.query(
          'UPDATE clicks SET scanner = 1 WHERE visitor = $1 AND at >= $2 AND at <= $3 AND edition = $4 AND scanner = 0',
          [visitor, since, at, hit.edition],
        );
        reason ??= 'burst';
      }
    }
    return reason ? { scanner: true, reason } : { scanner: false };
  });
}

/** One open of the pixel (the caller has already left out scanners and HEAD). */
export async function recordOpenPg(pool: PgPool, hit: Hit, visitor: string): Promise<void> {
  await pool.query(
    `INSERT INTO opens (edition, visitor, subscriber_id, at)
     VALUES ($1, $2, (SELECT id FROM subscribers WHERE id = $3), $4)`,
    [hit.edition, visitor, hit.subscriberId ?? null, hit.at.toISOString()],
  );
}

/** The newest edition a send ran for (the bad-link page's archive link). */
export async function latestSendRunPg(pool: PgPool): Promise<string | undefined> {
  const r = await pool.query<{ edition: string }>(
    "SELECT edition FROM runs WHERE kind = 'send' AND edition IS NOT NULL ORDER BY id DESC LIMIT 1",
  );
  return r.rows[0]?.edition;
}
