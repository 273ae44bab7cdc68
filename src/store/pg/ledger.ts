import { randomBytes } from 'node:crypto';
import type { LedgerRow, LedgerStore, SendState, WouldSendRow } from '../ledger.ts';
import { SEND_STATES } from '../ledger.ts';
import { connectionLost } from './lost.ts';
import type { PgClient, PgPool } from './pool.ts';

// The send ledger on PostgreSQL (issue 17). Same rows and states as the SQLite
// Ledger (src/store/ledger.ts); what differs is that several processes on several
// hosts send one edition:
// - a worker claims rows (sends.worker, sends.claimed_until in the database's
//   epoch ms) before sending them; a claim that is not renewed expires;
// - markCommitted is a compare-and-set: the row moves to `committed` only from
//   queued/deferred and only if no live claim of another worker holds it, in one
//   statement (one durable COMMIT). 0 rows: not ours — the caller skips it.
// The module imports no runtime code of `pg` (only types): the SQLite path that
// imports ledger.ts loads nothing of PostgreSQL.

/** The database's clock in epoch ms: what every host agrees on for claims. */
export const DB_NOW_MS = '(extract(epoch from clock_timestamp())*1000)::bigint';

// Reader preferences (src/store/preferences.ts WANTS_EDITION) in PostgreSQL: b.editions is a JSON text array.
const wantsEdition = (pausedParam: string, editionParam: string) =>
  `AND (b.paused_until IS NULL OR b.paused_until <= ${pausedParam})
   AND (b.editions IS NULL OR EXISTS (SELECT 1 FROM json_array_elements_text(b.editions::json) j(v)
        WHERE substr(${editionParam}, 1, length(j.v) + 1) = j.v || '-'))`;

const ROW_COLUMNS = `s.edition, s.subscriber_id AS "subscriberId", s.email, b.name, b.locale, b.status AS "subscriberStatus",
  s.state, s.attempts, s.message_id AS "messageId", b.topics`;

/** A ledger row as the PostgreSQL ledger returns it: with the reader's topics (JSON text) for their digest variant. */
export type PgLedgerRow = LedgerRow & { topics?: string | null };

/** Tries of a `sent` mark whose connection was lost (the first and two more on a fresh connection). */
const SENT_MARK_TRIES = 3;

export class PgLedger implements LedgerStore {
  constructor(
    private readonly pool: PgPool,
    private readonly url: string,
    /** This process's name on its claims; null for a sender that claims nothing (reads, tests). */
    readonly worker: string | null,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Told when a statement is tried again because the server cut its connection (the worker logs it). */
  onRetry?: (what: string, err: unknown) => void;

  private async q<T>(sql: string, args: unknown[], on: PgPool | PgClient = this.pool): Promise<T[]> {
    try {
      return (await on.query(sql, args)).rows as T[];
    } catch (err) {
      const { pgError } = await import('./pool.ts');
      throw pgError(err, this.url);
    }
  }

  async enqueue(edition: string, domain: string): Promise<number> {
    const now = this.now().toISOString();
    const prefix = `${edition}.${randomBytes(4).toString('hex')}`;
    const r = await this.q<{ n: number }>(
      `WITH ins AS (
         INSERT INTO sends (edition, subscriber_id, email, state, message_id, created_at, updated_at)
         SELECT $1, id, email, 'queued', '<' || $2 || '.' || id || '@' || $3 || '>', $4, $4 FROM subscribers b
         WHERE status = 'active' ${wantsEdition('$5', '$1')}
         ON CONFLICT (edition, subscriber_id) DO NOTHING RETURNING 1)
       SELECT count(*) AS n FROM ins`,
      [edition, prefix, domain, now, now.slice(0, 10)],
    );
    return r[0]!.n;
  }

  async pending(edition: string, limit?: number): Promise<LedgerRow[]> {
    return this.q<LedgerRow>(
      `SELECT ${ROW_COLUMNS} FROM sends s JOIN subscribers b ON b.id = s.subscriber_id
       WHERE s.edition = $1 AND s.state IN ('queued','deferred') ORDER BY s.subscriber_id LIMIT $2`,
      [edition, limit === undefined || limit < 0 ? null : limit],
    );
  }

  async pendingCount(edition: string, limit?: number): Promise<number> {
    const r = await this.q<{ n: number }>(
      "SELECT count(*) AS n FROM sends WHERE edition = $1 AND state IN ('queued','deferred')",
      [edition],
    );
    const n = r[0]!.n;
    return limit === undefined || limit < 0 ? n : Math.min(n, limit);
  }

  /** pending() a page at a time (keyset on the subscriber id), as the SQLite stream. */
  async *pendingStream(edition: string, limit?: number, pageSize = 500): AsyncGenerator<LedgerRow> {
    let left = limit === undefined || limit < 0 ? Number.POSITIVE_INFINITY : limit;
    let after = -1;
    while (left > 0) {
      const rows = await this.q<LedgerRow>(
        `SELECT ${ROW_COLUMNS} FROM sends s JOIN subscribers b ON b.id = s.subscriber_id
         WHERE s.edition = $1 AND s.subscriber_id > $2 AND s.state IN ('queued','deferred')
         ORDER BY s.subscriber_id LIMIT $3`,
        [edition, after, Math.min(pageSize, left)],
      );
      if (!rows.length) return;
      for (const r of rows) yield r;
      left -= rows.length;
      after = rows[rows.length - 1]!.subscriberId;
    }
  }

  async wouldSend(edition: string, limit?: number): Promise<(WouldSendRow & { topics?: string | null })[]> {
    return this.q<WouldSendRow & { topics?: string | null }>(
      `SELECT b.id AS "subscriberId", b.email, b.name, b.locale, b.topics FROM subscribers b
       LEFT JOIN sends s ON s.subscriber_id = b.id AND s.edition = $1
       WHERE b.status = 'active' AND (s.state IS NULL OR s.state IN ('queued','deferred'))
       ${wantsEdition('$2', '$1')}
       ORDER BY b.id LIMIT $3`,
      [edition, this.now().toISOString().slice(0, 10), limit === undefined || limit < 0 ? null : limit],
    );
  }

  /**
   * Claim the pending rows of one batch (lo ≤ subscriber id < hi) for `ms`:
   * rows with no claim, an expired claim, or this worker's own. Rows another
   * live worker holds are left to it. One statement: two workers never both get a row.
   */
  async claim(edition: string, lo: number, hi: number, ms: number): Promise<PgLedgerRow[]> {
    return this.q<PgLedgerRow>(
      `UPDATE sends s SET worker = $4, claimed_until = ${DB_NOW_MS} + $5
       FROM subscribers b
       WHERE b.id = s.subscriber_id AND s.edition = $1 AND s.subscriber_id >= $2 AND s.subscriber_id < $3
         AND s.state IN ('queued','deferred')
         AND (s.worker IS NULL OR s.worker = $4 OR s.claimed_until IS NULL OR s.claimed_until < ${DB_NOW_MS})
       RETURNING ${ROW_COLUMNS}`,
      [edition, lo, hi, this.mine(), ms],
    ).then((rows) => rows.sort((a, b) => a.subscriberId - b.subscriberId));
  }

  /** Keep this worker's claims in a batch alive for another `ms`. */
  async renew(edition: string, lo: number, hi: number, ms: number): Promise<number> {
    const r = await this.q<{ n: number }>(
      `WITH u AS (UPDATE sends SET claimed_until = ${DB_NOW_MS} + $5
         WHERE edition = $1 AND subscriber_id >= $2 AND subscriber_id < $3 AND worker = $4
           AND state IN ('queued','deferred') RETURNING 1)
       SELECT count(*) AS n FROM u`,
      [edition, lo, hi, this.mine(), ms],
    );
    return r[0]!.n;
  }

  /** Give this worker's unsent rows of a batch back (SIGTERM): another worker may take them at once. */
  async release(edition: string, lo: number, hi: number): Promise<void> {
    await this.q(
      `UPDATE sends SET worker = NULL, claimed_until = NULL
       WHERE edition = $1 AND subscriber_id >= $2 AND subscriber_id < $3 AND worker = $4
         AND state IN ('queued','deferred')`,
      [edition, lo, hi, this.mine()],
    );
  }

  /** After a run stopped early: this worker's untried rows of a batch become deferred with the reason, and free. */
  async deferClaimed(edition: string, lo: number, hi: number, error: string): Promise<void> {
    await this.q(
      `UPDATE sends SET state = 'deferred', last_error = $5, updated_at = $6, worker = NULL, claimed_until = NULL
       WHERE edition = $1 AND subscriber_id >= $2 AND subscriber_id < $3 AND worker = $4
         AND state IN ('queued','deferred')`,
      [edition, lo, hi, this.mine(), error.slice(0, 500), this.now().toISOString()],
    );
  }

  /** In a batch: rows still pending, and the latest live claim of another worker on them (DB epoch ms). */
  async batchState(
    edition: string,
    lo: number,
    hi: number,
  ): Promise<{ pending: number; heldElsewhere: number; waitMs: number }> {
    const r = await this.q<{ pending: number; held: number; wait: number | null }>(
      `SELECT count(*) AS pending,
              count(*) FILTER (WHERE worker IS NOT NULL AND worker <> $4 AND claimed_until >= ${DB_NOW_MS}) AS held,
              max(claimed_until - ${DB_NOW_MS}) FILTER (WHERE worker IS NOT NULL AND worker <> $4) AS wait
       FROM sends WHERE edition = $1 AND subscriber_id >= $2 AND subscriber_id < $3 AND state IN ('queued','deferred')`,
      [edition, lo, hi, this.mine()],
    );
    const x = r[0]!;
    return { pending: x.pending, heldElsewhere: x.held, waitMs: Math.max(0, Number(x.wait ?? 0)) };
  }

  private mine(): string {
    if (!this.worker) throw new Error('PgLedger: claims need a worker name');
    return this.worker;
  }

  /**
   * The point of no return, as a compare-and-set and one durable COMMIT: only a
   * queued/deferred row that no other live claim holds. Made with the body sent
   * and before the end-of-data (the transport awaits it); if its reply is lost
   * (throws) the "." is never written, and the row may be `committed` (in doubt,
   * never resent).
   *
   * Group commit: while one compare-and-set statement is in flight, the ones
   * asked for meanwhile (this process's other connections) wait and then go
   * together in ONE statement — each row still its own compare-and-set in the
   * WHERE, RETURNING the rows that moved — so each promise settles only after
   * the COMMIT holding its own row is durable. A lone commit goes at once.
   */
  markCommitted(edition: string, subscriberId: number, transport: string): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.toCommit.push({ edition, subscriberId, transport, resolve, reject });
      if (!this.committing) void this.commitQueued();
    });
  }

  private toCommit: {
    edition: string;
    subscriberId: number;
    transport: string;
    resolve: (ours: boolean) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private committing = false;

  private async commitQueued(): Promise<void> {
    this.committing = true;
    try {
      while (this.toCommit.length) {
        const group = this.toCommit;
        this.toCommit = [];
        const key = (e: string, id: number) => `${e}\u0000${id}`;
        // The same row asked twice in one group: only the first may win.
        const seen = new Set<string>();
        const first = group.filter((c) => {
          const k = key(c.edition, c.subscriberId);
          if (seen.has(k)) {
            c.resolve(false);
            return false;
          }
          seen.add(k);
          return true;
        });
        try {
          const won = await this.q<{ edition: string; id: number }>(
            `UPDATE sends s SET state = 'committed', attempts = s.attempts + 1, transport = v.transport,
                    updated_at = $4, worker = COALESCE($5, s.worker)
             FROM (SELECT unnest($1::text[]) AS edition, unnest($2::bigint[]) AS id,
                          unnest($3::text[]) AS transport) v
             WHERE s.edition = v.edition AND s.subscriber_id = v.id AND s.state IN ('queued','deferred')
               AND (s.worker IS NULL OR s.worker = $5 OR s.claimed_until IS NULL OR s.claimed_until < ${DB_NOW_MS})
             RETURNING s.edition, s.subscriber_id AS id`,
            [
              first.map((c) => c.edition),
              first.map((c) => c.subscriberId),
              first.map((c) => c.transport),
              this.now().toISOString(),
              this.worker,
            ],
          );
          const ours = new Set(won.map((w) => key(w.edition, Number(w.id))));
          for (const c of first) c.resolve(ours.has(key(c.edition, c.subscriberId)));
        } catch (err) {
          for (const c of first) c.reject(err);
        }
      }
    } finally {
      this.committing = false;
    }
  }

  /**
   * The server took the message (its 250). Marks read in the same event-loop
   * turn are written together in one UPDATE (one COMMIT, one WAL flush, instead
   * of one per message); the promise settles when theirs is written. A kill
   * before that leaves the row `committed` (unconfirmed, never resent), as on SQLite.
   */
  markSent(edition: string, subscriberId: number, response: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.unsent.push({ edition, subscriberId, response: response.slice(0, 500), resolve, reject });
      if (!this.flushQueued) {
        this.flushQueued = true;
        setImmediate(() => {
          this.flushQueued = false;
          void this.writeSent();
        });
      }
    });
  }

  private unsent: {
    edition: string;
    subscriberId: number;
    response: string;
    resolve: () => void;
    reject: (e: unknown) => void;
  }[] = [];
  private flushQueued = false;

  private async writeSent(): Promise<void> {
    const marks = this.unsent;
    this.unsent = [];
    if (!marks.length) return;
    const args = [
      marks.map((m) => m.edition),
      marks.map((m) => m.subscriberId),
      marks.map((m) => m.response),
      this.now().toISOString(),
    ];
    // The mark is idempotent (only `committed` rows move, to `sent`): a connection
    // the server cut (a restart, pg_terminate_backend) is tried again on a fresh
    // one, so a delivered message is not left in doubt for a lost session.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.q(
          `UPDATE sends s SET state = 'sent', response = v.response, last_error = NULL, updated_at = $4, sent_at = $4
           FROM (SELECT unnest($1::text[]) AS edition, unnest($2::bigint[]) AS id, unnest($3::text[]) AS response) v
           WHERE s.edition = v.edition AND s.subscriber_id = v.id AND s.state = 'committed'`,
          args,
        );
        for (const m of marks) m.resolve();
        return;
      } catch (err) {
        if (attempt < SENT_MARK_TRIES && connectionLost(err)) {
          this.onRetry?.(`${marks.length} sent mark(s)`, err);
          await new Promise((r) => setTimeout(r, 50 * attempt));
          continue;
        }
        for (const m of marks) m.reject(err);
        return;
      }
    }
  }

  flush(): void {}

  /** Only rows no other worker holds: a worker whose claim lapsed never overwrites the new holder's row. */
  async markFailed(
    edition: string,
    subscriberId: number,
    state: 'deferred' | 'failed' | 'queued',
    error: string,
    opts: { countAttempt: boolean; bounce?: boolean },
  ): Promise<void> {
    const now = this.now().toISOString();
    const why = error.slice(0, 500);
    const sql = `UPDATE sends SET state = $3, attempts = attempts + $4, last_error = $5, updated_at = $6
      WHERE edition = $1 AND subscriber_id = $2 AND (worker IS NULL OR worker = $7) RETURNING 1`;
    const args = [edition, subscriberId, state, opts.countAttempt ? 1 : 0, why, now, this.worker];
    if (!opts.bounce) {
      await this.q(sql, args);
      return;
    }
    const { withTransaction, pgError } = await import('./pool.ts');
    try {
      await withTransaction(this.pool, async (c) => {
        const r = await c.query(sql, args);
        if (r.rowCount)
          await c.query(
            `UPDATE subscribers SET status = 'bounced', status_reason = $1, status_at = $2, updated_at = $2
             WHERE id = $3 AND status = 'active'`,
            [why, now, subscriberId],
          );
      });
    } catch (err) {
      throw pgError(err, this.url);
    }
  }

  async markInDoubt(edition: string, subscriberId: number, error: string): Promise<void> {
    await this.q(
      `UPDATE sends SET last_error = $3, updated_at = $4 WHERE edition = $1 AND subscriber_id = $2 AND state = 'committed'`,
      [edition, subscriberId, error.slice(0, 500), this.now().toISOString()],
    );
  }

  async markSuppressed(edition: string, subscriberId: number, reason: string): Promise<void> {
    await this.q(
      `UPDATE sends SET state = 'suppressed', last_error = $3, updated_at = $4
       WHERE edition = $1 AND subscriber_id = $2 AND state IN ('queued','deferred') AND (worker IS NULL OR worker = $5)`,
      [edition, subscriberId, reason, this.now().toISOString(), this.worker],
    );
  }

  async counts(edition: string): Promise<Record<SendState, number>> {
    const out = Object.fromEntries(SEND_STATES.map((s) => [s, 0])) as Record<SendState, number>;
    const rows = await this.q<{ state: SendState; n: number }>(
      'SELECT state, count(*) AS n FROM sends WHERE edition = $1 GROUP BY state',
      [edition],
    );
    for (const r of rows) out[r.state] = r.n;
    return out;
  }
}
