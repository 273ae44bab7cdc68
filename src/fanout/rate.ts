import type { PgPool } from '../store/pg/pool.ts';

// The global rate limit per transport (worker.rateLimit), shared by every worker
// on every host: one GCRA row in the database (rate_buckets.tat_us, the
// "theoretical arrival time" in microseconds of the database's clock). Each
// message reserves the next slot in one UPDATE (the row lock orders the
// workers) and waits until it: messages start at most `perSecond` a second
// over all workers, whatever the hosts' clocks say.

const NOW_US = '(extract(epoch from clock_timestamp())*1000000)::bigint';

export function globalPace(pool: PgPool, bucket: string, perSecond: number): () => Promise<void> {
  const stepUs = Math.max(1, Math.round(1_000_000 / perSecond));
  let ready: Promise<unknown> | undefined;
  return async () => {
    ready ??= pool.query(
      'INSERT INTO rate_buckets (name, tat_us) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING',
      [bucket],
    );
    await ready;
    const r = await pool.query<{ wait: number }>(
      `WITH n AS (SELECT ${NOW_US} AS us)
       UPDATE rate_buckets b SET tat_us = GREATEST(b.tat_us, n.us) + $2 FROM n
       WHERE b.name = $1 RETURNING b.tat_us - $2 - n.us AS wait`,
      [bucket, stepUs],
    );
    const waitMs = Number(r.rows[0]?.wait ?? 0) / 1000;
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  };
}
