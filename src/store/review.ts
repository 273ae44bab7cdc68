import type { Awaitable } from './backend.ts';
import type { DB } from './db.ts';

// The editors' decisions, their history, the publish queue and the sign-in
// rate limit (tables in the review migration). Every decision and its queue
// rows change in one transaction, so the queue never disagrees with what an
// editor sees.

export type Decision = 'pending' | 'approved' | 'rejected';
export const QUEUE_STATES = ['queued', 'sending', 'published', 'failed', 'cancelled'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

export interface PostKey {
  edition: string;
  itemId: string;
  platform: string;
}

export interface PostDecision extends PostKey {
  status: Decision;
  format: string | null;
  /** The edited caption; null = the generated one. */
  caption: string | null;
  editor: string;
  updatedAt: string;
}

export interface QueueRow extends PostKey {
  id: number;
  key: string;
  publisher: string;
  format: string;
  caption: string;
  state: QueueState;
  attempts: number;
  lastError: string | null;
  response: string | null;
  editor: string;
  createdAt: string;
  updatedAt: string;
  publishedAt: string | null;
  /** When it may go (ISO); null: at the next run (folder, webhook) or not scheduled yet (social). */
  dueAt: string | null;
  /** The platform's id and link for the published post. */
  postId: string | null;
  postUrl: string | null;
}

export interface ReviewEvent extends PostKey {
  action: string;
  caption: string | null;
  editor: string;
  at: string;
}

const POST_COLS = `edition, item_id AS itemId, platform, status, format, caption, editor, updated_at AS updatedAt`;
const QUEUE_COLS = `id, idem_key AS key, publisher, edition, item_id AS itemId, platform, format, caption, state, attempts,
  last_error AS lastError, response, editor, created_at AS createdAt, updated_at AS updatedAt, published_at AS publishedAt,
  due_at AS dueAt, post_id AS postId, post_url AS postUrl`;

/** Why a change was refused: part of the post already went out (or is going out right now). */
export class PostLockedError extends Error {
  constructor(readonly post: PostKey) {
    super(`${post.edition}/${post.itemId}/${post.platform} is published or being published`);
  }
}

export interface ApproveInput {
  editor: string;
  format: string;
  caption: string;
  edited: string | null;
  key: string;
  publishers: string[];
}

/**
 * The sign-in rate limit, counted in the store so every `serve` replica sees
 * every failed attempt (issue 17). Times come from the store's clock.
 */
export interface LoginLimits {
  /** Failures of `client` in the last `windowMs`, and when the oldest of them leaves the window. */
  loginFailures(client: string, windowMs: number): Awaitable<{ count: number; retryAfterMs: number }>;
  /** Count one failure (and drop failures older than the window). */
  addLoginFailure(client: string, windowMs: number): Awaitable<void>;
  clearLoginFailures(client: string): Awaitable<void>;
}

/**
 * Decisions, their history and the publish queue on either store (issue 17):
 * ReviewRepo (SQLite; one runner at a time under the publish lease) and
 * PgReview (src/store/pg/review.ts; runners on several hosts, each row claimed
 * by one of them). Callers `await` each call.
 */
export interface ReviewStore {
  decisions(edition: string): Awaitable<PostDecision[]>;
  decision(k: PostKey): Awaitable<PostDecision | undefined>;
  queue(edition: string): Awaitable<QueueRow[]>;
  /** Editions with queue rows that are not cancelled, newest id first. */
  queueEditions(): Awaitable<string[]>;
  queueRow(id: number): Awaitable<QueueRow | undefined>;
  queueCounts(): Awaitable<Record<QueueState, number>>;
  events(k: PostKey): Awaitable<ReviewEvent[]>;
  editionEvents(edition: string): Awaitable<ReviewEvent[]>;
  approve(k: PostKey, p: ApproveInput): Awaitable<void>;
  decide(k: PostKey, status: 'rejected' | 'pending', p: { editor: string }): Awaitable<void>;
  editCaption(k: PostKey, p: { editor: string; edited: string | null; format?: string }): Awaitable<void>;
  recoverSending(): Awaitable<number>;
  claimNext(publishers: string[], after?: number, scheduled?: string[]): Awaitable<QueueRow | undefined>;
  /** Runners on a shared store hold a claim per row; true while this runner still holds row `id`. */
  renewClaim?(id: number): Awaitable<boolean>;
  countAttempt(id: number): Awaitable<void>;
  markPublished(id: number, response: string, post?: { id?: string; url?: string }): Awaitable<void>;
  markFailed(id: number, state: 'queued' | 'failed', error: string): Awaitable<void>;
  schedule(id: number, dueAt: string | null): Awaitable<boolean>;
  cancelRow(id: number): Awaitable<boolean>;
  takenSlots(publisher: string, from: string): Awaitable<string[]>;
  /** Queued rows of publishers not in `publishers` (nobody here can send them). */
  queuedElsewhere(publishers: string[]): Awaitable<number>;
}

export class ReviewRepo implements ReviewStore, LoginLimits {
  constructor(
    private readonly db: DB,
    private readonly now: () => Date = () => new Date(),
  ) {}

  decisions(edition: string): PostDecision[] {
    return this.db
      .prepare(`SELECT ${POST_COLS} FROM review_posts WHERE edition = ?`)
      .all(edition) as PostDecision[];
  }

  decision(k: PostKey): PostDecision | undefined {
    return this.db
      .prepare(`SELECT ${POST_COLS} FROM review_posts WHERE edition = ? AND item_id = ? AND platform = ?`)
      .get(k.edition, k.itemId, k.platform) as PostDecision | undefined;
  }

  /** Queue rows of an edition that are not cancelled. */
  queue(edition: string): QueueRow[] {
    return this.db
      .prepare(
        `SELECT ${QUEUE_COLS} FROM publish_queue WHERE edition = ? AND state != 'cancelled' ORDER BY id`,
      )
      .all(edition) as QueueRow[];
  }

  queueEditions(): string[] {
    return this.db
      .prepare("SELECT DISTINCT edition FROM publish_queue WHERE state != 'cancelled' ORDER BY edition DESC")
      .pluck()
      .all() as string[];
  }

  queuedElsewhere(publishers: string[]): number {
    return this.db
      .prepare(
        `SELECT count(*) AS n FROM publish_queue WHERE state = 'queued' AND publisher NOT IN (${publishers.map(() => '?').join(',') || "''"})`,
      )
      .pluck()
      .get(...publishers) as number;
  }

  queueRow(id: number): QueueRow | undefined {
    return this.db.prepare(`SELECT ${QUEUE_COLS} FROM publish_queue WHERE id = ?`).get(id) as
      | QueueRow
      | undefined;
  }

  queueCounts(): Record<QueueState, number> {
    const out = Object.fromEntries(QUEUE_STATES.map((s) => [s, 0])) as Record<QueueState, number>;
    const rows = this.db.prepare('SELECT state, count(*) AS n FROM publish_queue GROUP BY state').all() as {
      state: QueueState;
      n: number;
    }[];
    for (const r of rows) out[r.state] = r.n;
    return out;
  }

  events(k: PostKey): ReviewEvent[] {
    return this.db
      .prepare(
        `SELECT edition, item_id AS itemId, platform, action, caption, editor, at FROM review_events
         WHERE edition = ? AND item_id = ? AND platform = ? ORDER BY id`,
      )
      .all(k.edition, k.itemId, k.platform) as ReviewEvent[];
  }

  /** Every choice made on an edition's posts, oldest first. */
  editionEvents(edition: string): ReviewEvent[] {
    return this.db
      .prepare(
        `SELECT edition, item_id AS itemId, platform, action, caption, editor, at FROM review_events
         WHERE edition = ? ORDER BY id`,
      )
      .all(edition) as ReviewEvent[];
  }

  private locked(k: PostKey): boolean {
    return (
      this.db
        .prepare(
          `SELECT 1 FROM publish_queue WHERE edition = ? AND item_id = ? AND platform = ? AND state IN ('sending','published') LIMIT 1`,
        )
        .get(k.edition, k.itemId, k.platform) !== undefined
    );
  }

  private lockedOtherThan(k: PostKey, key: string): boolean {
    return (
      this.db
        .prepare(
          `SELECT 1 FROM publish_queue WHERE edition = ? AND item_id = ? AND platform = ? AND state IN ('sending','published') AND idem_key != ? LIMIT 1`,
        )
        .get(k.edition, k.itemId, k.platform, key) !== undefined
    );
  }

  private cancelOpen(k: PostKey, now: string, exceptKey?: string) {
    this.db
      .prepare(
        `UPDATE publish_queue SET state = 'cancelled', updated_at = ?
         WHERE edition = ? AND item_id = ? AND platform = ? AND state IN ('queued','failed') AND idem_key != ?`,
      )
      .run(now, k.edition, k.itemId, k.platform, exceptKey ?? '');
  }

  private upsert(
    k: PostKey,
    status: Decision,
    format: string | null,
    caption: string | null,
    editor: string,
    now: string,
  ) {
    this.db
      .prepare(
        `INSERT INTO review_posts (edition, item_id, platform, status, format, caption, editor, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (edition, item_id, platform) DO UPDATE SET
           status = excluded.status, format = excluded.format, caption = excluded.caption,
           editor = excluded.editor, updated_at = excluded.updated_at`,
      )
      .run(k.edition, k.itemId, k.platform, status, format, caption, editor, now);
  }

  private event(k: PostKey, action: string, caption: string | null, editor: string, now: string) {
    this.db
      .prepare(
        'INSERT INTO review_events (edition, item_id, platform, action, caption, editor, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(k.edition, k.itemId, k.platform, action, caption, editor, now);
  }

  /**
   * Approve a post: record the decision and put it in the queue of every
   * publisher, keyed by `key` (a hash of what is published). Approving the
   * same post again is a no-op for the queue; a failed or cancelled row with
   * the same key is queued again. Throws PostLockedError once it went out.
   */
  approve(k: PostKey, p: ApproveInput) {
    const now = this.now().toISOString();
    this.db
      .transaction(() => {
        // Part of it went out already: only the very same post may be approved again
        // (to retry a publisher that failed); anything else would publish a different text.
        if (this.locked(k) && this.lockedOtherThan(k, p.key)) throw new PostLockedError(k);
        this.upsert(k, 'approved', p.format, p.edited, p.editor, now);
        this.event(k, 'approve', p.caption, p.editor, now);
        this.cancelOpen(k, now, p.key);
        const ins = this.db.prepare(
          `INSERT INTO publish_queue (idem_key, publisher, edition, item_id, platform, format, caption, state, editor, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)
           ON CONFLICT (idem_key, publisher) DO UPDATE SET state = 'queued', attempts = 0, last_error = NULL,
             due_at = NULL, editor = excluded.editor, updated_at = excluded.updated_at
           WHERE state IN ('cancelled','failed')`,
        );
        for (const pub of p.publishers)
          ins.run(p.key, pub, k.edition, k.itemId, k.platform, p.format, p.caption, p.editor, now, now);
      })
      .immediate();
  }

  /** Reject, or set back to pending; open queue rows are cancelled. */
  decide(k: PostKey, status: 'rejected' | 'pending', p: { editor: string }) {
    const now = this.now().toISOString();
    this.db
      .transaction(() => {
        if (this.locked(k)) throw new PostLockedError(k);
        const cur = this.decision(k);
        this.upsert(k, status, cur?.format ?? null, cur?.caption ?? null, p.editor, now);
        this.event(k, status === 'rejected' ? 'reject' : 'reset', null, p.editor, now);
        this.cancelOpen(k, now);
      })
      .immediate();
  }

  /**
   * Save an edited caption (null = back to the generated one). An approved
   * post goes back to pending: an approval is of a text, not of a slot.
   */
  editCaption(k: PostKey, p: { editor: string; edited: string | null; format?: string }) {
    const now = this.now().toISOString();
    this.db
      .transaction(() => {
        if (this.locked(k)) throw new PostLockedError(k);
        const cur = this.decision(k);
        const status: Decision = cur?.status === 'rejected' ? 'rejected' : 'pending';
        this.upsert(k, status, p.format ?? cur?.format ?? null, p.edited, p.editor, now);
        this.event(k, 'caption', p.edited, p.editor, now);
        this.cancelOpen(k, now);
      })
      .immediate();
  }

  // ── the queue (one runner at a time: the caller holds the publish lease) ──

  /** Rows left in `sending` by a run that died: queued again, same key. */
  recoverSending(): number {
    return this.db
      .prepare("UPDATE publish_queue SET state = 'queued', updated_at = ? WHERE state = 'sending'")
      .run(this.now().toISOString()).changes;
  }

  /**
   * The next due queued row of one of `publishers`, marked sending (one attempt
   * counted). Due: due_at has passed, or it has none and its publisher is not one
   * of `scheduled` (social platforms wait for an editor's time).
   */
  claimNext(publishers: string[], after = 0, scheduled: string[] = []): QueueRow | undefined {
    if (!publishers.length) return undefined;
    const marks = publishers.map(() => '?').join(',');
    const held = scheduled.map(() => '?').join(',') || "''";
    const row = this.db
      .prepare(
        `SELECT id FROM publish_queue WHERE state = 'queued' AND publisher IN (${marks}) AND id > ?
           AND (due_at <= ? OR (due_at IS NULL AND publisher NOT IN (${held})))
         ORDER BY id LIMIT 1`,
      )
      .get(...publishers, after, this.now().toISOString(), ...scheduled) as { id: number } | undefined;
    if (!row) return undefined;
    const r = this.db
      .prepare(
        "UPDATE publish_queue SET state = 'sending', attempts = attempts + 1, updated_at = ? WHERE id = ? AND state = 'queued'",
      )
      .run(this.now().toISOString(), row.id);
    return r.changes ? this.queueRow(row.id) : undefined;
  }

  /** Another attempt of a row that is already sending. */
  countAttempt(id: number) {
    this.db
      .prepare('UPDATE publish_queue SET attempts = attempts + 1, updated_at = ? WHERE id = ?')
      .run(this.now().toISOString(), id);
  }

  markPublished(id: number, response: string, post: { id?: string; url?: string } = {}) {
    const now = this.now().toISOString();
    this.db
      .prepare(
        "UPDATE publish_queue SET state = 'published', response = ?, last_error = NULL, updated_at = ?, published_at = ?, post_id = ?, post_url = ? WHERE id = ?",
      )
      .run(response.slice(0, 500), now, now, post.id ?? null, post.url ?? null, id);
  }

  // ── scheduling (the review app; any time before the row is claimed) ──

  /** Set (or clear, null) when a queued row goes. False: it is no longer queued. */
  schedule(id: number, dueAt: string | null): boolean {
    return (
      this.db
        .prepare("UPDATE publish_queue SET due_at = ?, updated_at = ? WHERE id = ? AND state = 'queued'")
        .run(dueAt, this.now().toISOString(), id).changes === 1
    );
  }

  /** Take a queued row out of the queue. False: it is sending, published or already out. */
  cancelRow(id: number): boolean {
    return (
      this.db
        .prepare(
          "UPDATE publish_queue SET state = 'cancelled', updated_at = ? WHERE id = ? AND state IN ('queued','failed')",
        )
        .run(this.now().toISOString(), id).changes === 1
    );
  }

  /** Times already taken on a publisher from `from` on (queued or sent): for "next free slot". */
  takenSlots(publisher: string, from: string): string[] {
    return this.db
      .prepare(
        `SELECT coalesce(published_at, due_at) FROM publish_queue WHERE publisher = ? AND state IN ('queued','sending','published')
           AND coalesce(published_at, due_at) >= ?`,
      )
      .pluck()
      .all(publisher, from) as string[];
  }

  /** A failed attempt: `queued` to try again next run, `failed` to stop. */
  markFailed(id: number, state: 'queued' | 'failed', error: string) {
    this.db
      .prepare('UPDATE publish_queue SET state = ?, last_error = ?, updated_at = ? WHERE id = ?')
      .run(state, error.slice(0, 500), this.now().toISOString(), id);
  }

  // ── sign-in rate limit ──

  loginFailures(client: string, windowMs: number): { count: number; retryAfterMs: number } {
    const now = this.now().getTime();
    const r = this.db
      .prepare('SELECT count(*) AS count, min(at) AS oldest FROM login_failures WHERE client = ? AND at > ?')
      .get(client, now - windowMs) as { count: number; oldest: number | null };
    return { count: r.count, retryAfterMs: Math.max(0, (r.oldest ?? now) + windowMs - now) };
  }

  addLoginFailure(client: string, windowMs: number) {
    const now = this.now().getTime();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM login_failures WHERE at <= ?').run(now - windowMs);
      this.db.prepare('INSERT INTO login_failures (client, at) VALUES (?, ?)').run(client, now);
    })();
  }

  clearLoginFailures(client: string) {
    this.db.prepare('DELETE FROM login_failures WHERE client = ?').run(client);
  }
}
