import { consentRow, INSERT_CONSENT } from '../consent.ts';
import {
  type ConfirmLedger,
  type ConfirmOutcome,
  fromRow,
  type Row,
  SCRUB,
  type Signup,
  type SignupInput,
  type Signups,
} from '../signups.ts';
import { normalizeEmail } from '../subscribers.ts';
import { suppressionHashes } from '../suppression.ts';
import type { PgPool } from './pool.ts';
import { dollars, PgSubscribers, tx } from './subscribers.ts';

// Pending double opt-ins on the PostgreSQL store (issue 17): SignupRepo's rules
// (src/store/signups.ts) for `serve` replicas sharing one database. A confirm
// locks the signup row (FOR UPDATE) for its whole transaction, so two replicas
// confirming one link at once make one reader and one consent row; the second
// sees it confirmed ('already'). The rate limit is PgRateLimits' (database clock).

export class PgSignups implements Signups {
  constructor(
    private readonly pool: PgPool,
    private readonly keys: readonly Buffer[],
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** PgRateLimits, imported on first use: src/store/signups.ts (and with it this file) is on SQLite paths too, which never load `pg`. */
  private async limits() {
    const { PgRateLimits } = await import('./ratelimits.ts');
    return new PgRateLimits(this.pool);
  }

  static ledger(pool: PgPool, now: () => Date): ConfirmLedger {
    return new PgConfirmLedger(pool, now);
  }

  async purge(): Promise<void> {
    await this.pool.query(`${SCRUB} WHERE confirmed_at IS NULL AND expires_at < $1 AND email != ''`, [
      this.now().toISOString(),
    ]);
    await (await this.limits()).purgeSignupHits();
  }

  async hit(key: string, max: number, windowMs: number): Promise<boolean> {
    return (await this.limits()).hit(key, max, windowMs);
  }

  async pending(email: string, list: string): Promise<Signup | undefined> {
    const r = await this.pool.query<Row>(
      `SELECT * FROM signups WHERE email = $1 AND list = $2 AND confirmed_at IS NULL AND expires_at >= $3
        ORDER BY id DESC LIMIT 1`,
      [normalizeEmail(email), list, this.now().toISOString()],
    );
    return r.rows[0] && fromRow(r.rows[0]);
  }

  async create(input: SignupInput, expiryHours: number): Promise<Signup> {
    const now = this.now();
    const expires = new Date(now.getTime() + expiryHours * 3_600_000);
    const r = await this.pool.query<Row>(
      `INSERT INTO signups (email, name, locale, topics, list, ip_hash, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [
        normalizeEmail(input.email),
        input.name ?? null,
        input.locale ?? null,
        JSON.stringify(input.topics ?? []),
        input.list,
        input.ipHash ?? null,
        now.toISOString(),
        expires.toISOString(),
      ],
    );
    return fromRow(r.rows[0]!);
  }

  async get(id: number): Promise<Signup | undefined> {
    const r = await this.pool.query<Row>('SELECT * FROM signups WHERE id = $1', [id]);
    return r.rows[0] && fromRow(r.rows[0]);
  }

  async cancel(id: number): Promise<void> {
    await this.pool.query(
      `${SCRUB}, expires_at = '1970-01-01T00:00:00.000Z' WHERE id = $1 AND confirmed_at IS NULL`,
      [id],
    );
  }

  confirm(id: number): Promise<ConfirmOutcome> {
    return tx(this.pool, async (c) => {
      const s = (await c.query<Row>('SELECT * FROM signups WHERE id = $1 FOR UPDATE', [id])).rows[0];
      if (!s) return 'expired';
      if (s.confirmed_at) return 'already';
      const now = this.now();
      const at = now.toISOString();
      if (s.expires_at < at) return 'expired';
      const existing = (
        await c.query<{ id: number; status: string }>(
          'SELECT id, status FROM subscribers WHERE email = $1 FOR UPDATE',
          [s.email],
        )
      ).rows[0];
      const topics = JSON.parse(s.topics) as string[];
      await new PgSubscribers(this.pool, this.now).upsertIn(
        c,
        [{ email: s.email, name: s.name ?? undefined, locale: s.locale ?? undefined, topics }],
        'form',
      );
      const sub = (await c.query<{ id: number }>('SELECT id FROM subscribers WHERE email = $1', [s.email]))
        .rows[0]!;
      if (existing) {
        if (existing.status !== 'active')
          await c.query(
            "UPDATE subscribers SET status = 'active', status_reason = $1, status_at = $2, updated_at = $2 WHERE id = $3",
            [`confirmed signup (${s.list})`, at, sub.id],
          );
        await c.query(
          dollars(INSERT_CONSENT),
          consentRow(
            sub.id,
            {
              source: 'form',
              list: s.list,
              signupAt: s.created_at,
              confirmedAt: at,
              ipHash: s.ip_hash ?? undefined,
            },
            at,
          ),
        );
      } else {
        // upsertIn recorded the 'form' consent row when it added the reader: complete it.
        await c.query(
          `UPDATE consent SET list = $1, signup_at = $2, confirmed_at = $3, ip_hash = $4
            WHERE id = (SELECT max(id) FROM consent WHERE subscriber_id = $5)`,
          [s.list, s.created_at, at, s.ip_hash, sub.id],
        );
      }
      await c.query('DELETE FROM suppression WHERE hash = ANY($1::text[])', [
        suppressionHashes(this.keys, s.email),
      ]);
      await c.query("UPDATE signups SET confirmed_at = $1, email = '', name = NULL WHERE id = $2", [at, id]);
      return 'confirmed' as const;
    });
  }
}

/** Another replica committed this signup's confirmation first: this copy is aborted before its end of data. */
export class ConfirmTaken extends Error {
  constructor(signupId: number) {
    super(`signup ${signupId}: confirmation already committed by another process`);
  }
}

/**
 * confirm_sends on PostgreSQL, with SQLite's commit point: the row is inserted
 * 'committed' by the transport's commit() — awaited with the whole body sent,
 * just before the end-of-data marker. Of two replicas sending one signup's
 * confirmation at once, the second's INSERT finds the row (ON CONFLICT DO
 * NOTHING) and throws ConfirmTaken, so its transport never writes the "." and
 * the reader gets one copy. A failure before commit() leaves no row (a later
 * signup sends it), as on SQLite.
 */
class PgConfirmLedger implements ConfirmLedger {
  constructor(
    private readonly pool: PgPool,
    private readonly now: () => Date,
  ) {}
  get open() {
    return !(this.pool as { ended?: boolean }).ended;
  }
  async begin(signupId: number): Promise<boolean> {
    const r = await this.pool.query('SELECT 1 FROM confirm_sends WHERE signup_id = $1', [signupId]);
    return r.rows.length === 0;
  }
  async commit(signupId: number, messageId: string, transport: string): Promise<void> {
    const at = this.now().toISOString();
    const r = await this.pool.query(
      `INSERT INTO confirm_sends (signup_id, state, message_id, transport, created_at, updated_at)
       VALUES ($1, 'committed', $2, $3, $4, $4) ON CONFLICT (signup_id) DO NOTHING`,
      [signupId, messageId, transport, at],
    );
    if ((r.rowCount ?? 0) === 0) throw new ConfirmTaken(signupId);
  }
  async sent(signupId: number, response: string): Promise<void> {
    await this.pool.query(
      "UPDATE confirm_sends SET state = 'sent', response = $1, updated_at = $2 WHERE signup_id = $3",
      [response.slice(0, 500), this.now().toISOString(), signupId],
    );
  }
  /** After the commit point the row says the server may have it; before it there is no row to change. */
  async failed(signupId: number, committed: boolean): Promise<void> {
    if (committed)
      await this.pool.query(
        "UPDATE confirm_sends SET state = 'failed', updated_at = $1 WHERE signup_id = $2",
        [this.now().toISOString(), signupId],
      );
  }
}
