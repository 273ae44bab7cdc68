import {
  type ApproveInput,
  type Decision,
  type PostDecision,
  type PostKey,
  PostLockedError,
  QUEUE_STATES,
  type QueueRow,
  type QueueState,
  type ReviewEvent,
  type ReviewStore,
} from '../review.ts';
import { type PgClient, type PgPool, withTransaction } from './pool.ts';
import { DB_NOW_ISO, DB_NOW_MS } from './sessions.ts';

// Decisions, their history and the publish queue on PostgreSQL (issue 17).
// Several `serve` replicas (and `broadsheet publish` on any host) run the queue
// at once; exactly-once per row rests on the claim, not on a global lease:
// - a runner claims a row with one UPDATE … WHERE id = (SELECT … WHERE
//   state = 'queued' … FOR UPDATE SKIP LOCKED) RETURNING: two runners never
//   get the same row, and neither waits on the other;
// - the claim names the runner and lasts until claim_until (database time);
//   the runner extends it during long backoffs; a row left 'sending' past its
//   claim (its runner died) is queued again by the next run — with the same
//   idempotency key, as on SQLite after a crash;
// - approve / reject / edit lock the post's queue rows (FOR UPDATE) and the
//   post (an advisory lock) first, so a decision never races a claim: either
//   the claim waits or skips the row, or the decision sees it 'sending'.

const POST_COLS = `edition, item_id AS "itemId", platform, status, format, caption, editor, updated_at AS "updatedAt"`;
const QUEUE_COLS = `id, idem_key AS key, publisher, edition, item_id AS "itemId", platform, format, caption, state, attempts,
  last_error AS "lastError", response, editor, created_at AS "createdAt", updated_at AS "updatedAt",
  published_at AS "publishedAt", due_at AS "dueAt", post_id AS "postId", post_url AS "postUrl"`;
const EVENT_COLS = `edition, item_id AS "itemId", platform, action, caption, editor, at`;

export interface PgReviewOptions {
  /** Who claims rows (host:pid:random); only this runner may finish them. */
  runner: string;
  /** How long a claim holds before another runner may take the row over. */
  claimTtlMs: number;
}

export class PgReview implements ReviewStore {
  constructor(
    private readonly pool: PgPool,
    private readonly opts: PgReviewOptions = { runner: 'unnamed', claimTtlMs: 120_000 },
  ) {}

  private async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(sql, params)).rows as T[];
  }

  decisions(edition: string) {
    return this.rows<PostDecision>(`SELECT ${POST_COLS} FROM review_posts WHERE edition = $1`, [edition]);
  }

  async decision(k: PostKey): Promise<PostDecision | undefined> {
    return (await this.decisionOn(this.pool, k))[0];
  }

  private async decisionOn(q: Pick<PgPool, 'query'>, k: PostKey): Promise<PostDecision[]> {
    return (
      await q.query(
        `SELECT ${POST_COLS} FROM review_posts WHERE edition = $1 AND item_id = $2 AND platform = $3`,
        [k.edition, k.itemId, k.platform],
      )
    ).rows as PostDecision[];
  }

  queue(edition: string) {
    return this.rows<QueueRow>(
      `SELECT ${QUEUE_COLS} FROM publish_queue WHERE edition = $1 AND state <> 'cancelled' ORDER BY id`,
      [edition],
    );
  }

  async queueEditions(): Promise<string[]> {
    return (
      await this.rows<{ edition: string }>(
        "SELECT DISTINCT edition FROM publish_queue WHERE state <> 'cancelled' ORDER BY edition DESC",
      )
    ).map((r) => r.edition);
  }

  async queueRow(id: number): Promise<QueueRow | undefined> {
    return (await this.rows<QueueRow>(`SELECT ${QUEUE_COLS} FROM publish_queue WHERE id = $1`, [id]))[0];
  }

  async queueCounts(): Promise<Record<QueueState, number>> {
    const out = Object.fromEntries(QUEUE_STATES.map((s) => [s, 0])) as Record<QueueState, number>;
    for (const r of await this.rows<{ state: QueueState; n: number }>(
      'SELECT state, count(*) AS n FROM publish_queue GROUP BY state',
    ))
      out[r.state] = r.n;
    return out;
  }

  events(k: PostKey) {
    return this.rows<ReviewEvent>(
      `SELECT ${EVENT_COLS} FROM review_events WHERE edition = $1 AND item_id = $2 AND platform = $3 ORDER BY id`,
      [k.edition, k.itemId, k.platform],
    );
  }

  editionEvents(edition: string) {
    return this.rows<ReviewEvent>(`SELECT ${EVENT_COLS} FROM review_events WHERE edition = $1 ORDER BY id`, [
      edition,
    ]);
  }

  /**
   * One decision's transaction: the post serialised across replicas (advisory
   * lock), its queue rows locked against claims, `fn` given their states.
   */
  private change(
    k: PostKey,
    fn: (c: PgClient, rows: { key: string; state: QueueState }[], now: string) => Promise<void>,
  ) {
    return withTransaction(this.pool, async (c) => {
      await c.query("SELECT pg_advisory_xact_lock(hashtext('review:' || $1 || '/' || $2 || '/' || $3))", [
        k.edition,
        k.itemId,
        k.platform,
      ]);
      const rows = (
        await c.query<{ key: string; state: QueueState }>(
          'SELECT idem_key AS key, state FROM publish_queue WHERE edition = $1 AND item_id = $2 AND platform = $3 FOR UPDATE',
          [k.edition, k.itemId, k.platform],
        )
      ).rows;
      const now = (await c.query<{ now: string }>(`SELECT ${DB_NOW_ISO} AS now`)).rows[0]!.now;
      await fn(c, rows, now);
    });
  }

  private static out = (s: QueueState) => s === 'sending' || s === 'published';

  private async upsert(c: PgClient, k: PostKey, d: Omit<PostDecision, keyof PostKey>) {
    await c.query(
      `INSERT INTO review_posts (edition, item_id, platform, status, format, caption, editor, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (edition, item_id, platform) DO UPDATE SET
         status = excluded.status, format = excluded.format, caption = excluded.caption,
         editor = excluded.editor, updated_at = excluded.updated_at`,
      [k.edition, k.itemId, k.platform, d.status, d.format, d.caption, d.editor, d.updatedAt],
    );
  }

  private async event(
    c: PgClient,
    k: PostKey,
    action: string,
    caption: string | null,
    editor: string,
    at: string,
  ) {
    await c.query(
      'INSERT INTO review_events (edition, item_id, platform, action, caption, editor, at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [k.edition, k.itemId, k.platform, action, caption, editor, at],
    );
  }

  private async cancelOpen(c: PgClient, k: PostKey, now: string, exceptKey = '') {
    await c.query(
      `UPDATE publish_queue SET state = 'cancelled', updated_at = $1
       WHERE edition = $2 AND item_id = $3 AND platform = $4 AND state IN ('queued','failed') AND idem_key <> $5`,
      [now, k.edition, k.itemId, k.platform, exceptKey],
    );
  }

  async approve(k: PostKey, p: ApproveInput): Promise<void> {
    await this.change(k, async (c, rows, now) => {
      if (rows.some((r) => PgReview.out(r.state) && r.key !== p.key)) throw new PostLockedError(k);
      await this.upsert(c, k, {
        status: 'approved',
        format: p.format,
        caption: p.edited,
        editor: p.editor,
        updatedAt: now,
      });
      await this.event(c, k, 'approve', p.caption, p.editor, now);
      await this.cancelOpen(c, k, now, p.key);
      for (const pub of p.publishers)
        await c.query(
          `INSERT INTO publish_queue (idem_key, publisher, edition, item_id, platform, format, caption, state, editor, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $9, $9)
           ON CONFLICT (idem_key, publisher) DO UPDATE SET state = 'queued', attempts = 0, last_error = NULL,
             due_at = NULL, claimed_by = NULL, claim_until = NULL, editor = excluded.editor, updated_at = excluded.updated_at
           WHERE publish_queue.state IN ('cancelled','failed')`,
          [p.key, pub, k.edition, k.itemId, k.platform, p.format, p.caption, p.editor, now],
        );
    });
  }

  async decide(k: PostKey, status: 'rejected' | 'pending', p: { editor: string }): Promise<void> {
    await this.change(k, async (c, rows, now) => {
      if (rows.some((r) => PgReview.out(r.state))) throw new PostLockedError(k);
      const cur = (await this.decisionOn(c, k))[0];
      await this.upsert(c, k, {
        status,
        format: cur?.format ?? null,
        caption: cur?.caption ?? null,
        editor: p.editor,
        updatedAt: now,
      });
      await this.event(c, k, status === 'rejected' ? 'reject' : 'reset', null, p.editor, now);
      await this.cancelOpen(c, k, now);
    });
  }

  async editCaption(
    k: PostKey,
    p: { editor: string; edited: string | null; format?: string },
  ): Promise<void> {
    await this.change(k, async (c, rows, now) => {
      if (rows.some((r) => PgReview.out(r.state))) throw new PostLockedError(k);
      const cur = (await this.decisionOn(c, k))[0];
      const status: Decision = cur?.status === 'rejected' ? 'rejected' : 'pending';
      await this.upsert(c, k, {
        status,
        format: p.format ?? cur?.format ?? null,
        caption: p.edited,
        editor: p.editor,
        updatedAt: now,
      });
      await this.event(c, k, 'caption', p.edited, p.editor, now);
      await this.cancelOpen(c, k, now);
    });
  }

  // ── the queue: runners on several hosts, one claim per row ──

  /** Rows whose runner died mid-attempt (claim expired, by the database's clock): queued again, same key. */
  async recoverSending(): Promise<number> {
    const r = await this.pool.query(
      `UPDATE publish_queue SET state = 'queued', claimed_by = NULL, claim_until = NULL, updated_at = ${DB_NOW_ISO}
       WHERE state = 'sending' AND (claim_until IS NULL OR claim_until < ${DB_NOW_MS})`,
    );
    return r.rowCount ?? 0;
  }

  async claimNext(publishers: string[], after = 0, scheduled: string[] = []): Promise<QueueRow | undefined> {
    if (!publishers.length) return undefined;
    const r = await this.pool.query<QueueRow>(
      `UPDATE publish_queue SET state = 'sending', attempts = attempts + 1, updated_at = ${DB_NOW_ISO},
         claimed_by = $4, claim_until = ${DB_NOW_MS} + $5::bigint
       WHERE id = (
         SELECT id FROM publish_queue WHERE state = 'queued' AND publisher = ANY($1::text[]) AND id > $2
           AND (due_at <= ${DB_NOW_ISO} OR (due_at IS NULL AND NOT (publisher = ANY($3::text[]))))
         ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
       AND state = 'queued'
       RETURNING ${QUEUE_COLS}`,
      [publishers, after, scheduled, this.opts.runner, this.opts.claimTtlMs],
    );
    return r.rows[0];
  }

  /** Extend this runner's claim on a row it is sending; false: the claim was lost (taken over). */
  async renewClaim(id: number): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE publish_queue SET claim_until = ${DB_NOW_MS} + $3::bigint
       WHERE id = $1 AND state = 'sending' AND claimed_by = $2`,
      [id, this.opts.runner, this.opts.claimTtlMs],
    );
    return r.rowCount === 1;
  }

  async countAttempt(id: number): Promise<void> {
    await this.pool.query(
      `UPDATE publish_queue SET attempts = attempts + 1, updated_at = ${DB_NOW_ISO} WHERE id = $1 AND claimed_by = $2`,
      [id, this.opts.runner],
    );
  }

  async markPublished(id: number, response: string, post: { id?: string; url?: string } = {}): Promise<void> {
    await this.pool.query(
      `UPDATE publish_queue SET state = 'published', response = $1, last_error = NULL, updated_at = ${DB_NOW_ISO},
         published_at = ${DB_NOW_ISO}, post_id = $2, post_url = $3, claim_until = NULL
       WHERE id = $4 AND claimed_by = $5`,
      [response.slice(0, 500), post.id ?? null, post.url ?? null, id, this.opts.runner],
    );
  }

  async markFailed(id: number, state: 'queued' | 'failed', error: string): Promise<void> {
    await this.pool.query(
      `UPDATE publish_queue SET state = $1, last_error = $2, updated_at = ${DB_NOW_ISO}, claimed_by = NULL, claim_until = NULL
       WHERE id = $3 AND claimed_by = $4`,
      [state, error.slice(0, 500), id, this.opts.runner],
    );
  }

  async schedule(id: number, dueAt: string | null): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE publish_queue SET due_at = $1, updated_at = ${DB_NOW_ISO} WHERE id = $2 AND state = 'queued'`,
      [dueAt, id],
    );
    return r.rowCount === 1;
  }

  async cancelRow(id: number): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE publish_queue SET state = 'cancelled', updated_at = ${DB_NOW_ISO} WHERE id = $1 AND state IN ('queued','failed')`,
      [id],
    );
    return r.rowCount === 1;
  }

  async takenSlots(publisher: string, from: string): Promise<string[]> {
    return (
      await this.rows<{ t: string }>(
        `SELECT coalesce(published_at, due_at) AS t FROM publish_queue WHERE publisher = $1
           AND state IN ('queued','sending','published') AND coalesce(published_at, due_at) >= $2`,
        [publisher, from],
      )
    ).map((r) => r.t);
  }

  async queuedElsewhere(publishers: string[]): Promise<number> {
    return (
      await this.rows<{ n: number }>(
        "SELECT count(*) AS n FROM publish_queue WHERE state = 'queued' AND NOT (publisher = ANY($1::text[]))",
        [publishers],
      )
    )[0]!.n;
  }
}
