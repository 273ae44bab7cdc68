import type { LoginLimits } from '../review.ts';
import type { SignupHits } from '../signups.ts';
import { type PgPool, withTransaction } from './pool.ts';
import { DB_NOW_MS } from './sessions.ts';

// The sign-in and signup rate limits on PostgreSQL (issue 17): attempts are
// rows (login_failures, signup_hits) in the shared store, so a client that
// spreads its attempts over several `serve` replicas behind a load balancer
// meets one limit, not one per replica. Times are the database's clock. A
// count and the insert that follows it run under a transaction-scoped advisory
// lock on the key, so two replicas counting the same key at once cannot both
// let the last allowed attempt through.

export class PgRateLimits implements LoginLimits, SignupHits {
  constructor(private readonly pool: PgPool) {}

  async loginFailures(client: string, windowMs: number): Promise<{ count: number; retryAfterMs: number }> {
    const r = await this.pool.query<{ count: number; retry: number | null }>(
      `SELECT count(*) AS count, min(at) + $2::bigint - ${DB_NOW_MS} AS retry
         FROM login_failures WHERE client = $1 AND at > ${DB_NOW_MS} - $2::bigint`,
      [client, windowMs],
    );
    const row = r.rows[0]!;
    return { count: row.count, retryAfterMs: Math.max(0, Number(row.retry ?? 0)) };
  }

  async addLoginFailure(client: string, windowMs: number): Promise<void> {
    await withTransaction(this.pool, async (c) => {
      await c.query(`DELETE FROM login_failures WHERE at <= ${DB_NOW_MS} - $1::bigint`, [windowMs]);
      await c.query(`INSERT INTO login_failures (client, at) VALUES ($1, ${DB_NOW_MS})`, [client]);
    });
  }

  async clearLoginFailures(client: string): Promise<void> {
    await this.pool.query('DELETE FROM login_failures WHERE client = $1', [client]);
  }

  hit(key: string, max: number, windowMs: number): Promise<boolean> {
    return withTransaction(this.pool, async (c) => {
      await c.query("SELECT pg_advisory_xact_lock(hashtext('signup_hits:' || $1))", [key]);
      const r = await c.query<{ n: number }>(
        `SELECT count(*) AS n FROM signup_hits WHERE key = $1 AND at > ${DB_NOW_MS} - $2::bigint`,
        [key, windowMs],
      );
      await c.query(`INSERT INTO signup_hits (key, at) VALUES ($1, ${DB_NOW_MS})`, [key]);
      return r.rows[0]!.n < max;
    });
  }

  /** Drop signup hits older than a day (SignupRepo.purge's share of it). */
  async purgeSignupHits(): Promise<void> {
    await this.pool.query(`DELETE FROM signup_hits WHERE at < ${DB_NOW_MS} - 86400000`);
  }
}
