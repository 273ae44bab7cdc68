import { randomBytes } from 'node:crypto';
import type { Awaitable, Backend } from './backend.ts';
import type { DB } from './db.ts';
import { PgLedger } from './pg/ledger.ts';
import { WANTS_EDITION, wantsEditionArgs } from './preferences.ts';

export const SEND_STATES = ['queued', 'committed', 'sent', 'deferred', 'failed', 'suppressed'] as const;
export type SendState = (typeof SEND_STATES)[number];

export interface LedgerRow {
  edition: string;
  subscriberId: number;
  email: string;
  name: string | null;
  locale: string | null;
  subscriberStatus: string;
  state: SendState;
  attempts: number;
  messageId: string;
}

export type WouldSendRow = {
  subscriberId: number;
  email: string;
  name: string | null;
  locale: string | null;
};

/**
 * The send ledger's contract (issue 17): the SQLite `Ledger` below answers
 * synchronously (its commit is written inside the socket write of the
 * end-of-data), `PgLedger` (src/store/pg/ledger.ts) with promises. Callers
 * `await` every call and read pendingStream with `for await`.
 */
export interface LedgerStore {
  enqueue(edition: string, domain: string): Awaitable<number>;
  pending(edition: string, limit?: number): Awaitable<LedgerRow[]>;
  pendingCount(edition: string, limit?: number): Awaitable<number>;
  pendingStream(
    edition: string,
    limit?: number,
    pageSize?: number,
  ): Iterable<LedgerRow> | AsyncIterable<LedgerRow>;
  wouldSend(edition: string, limit?: number): Awaitable<WouldSendRow[]>;
  /**
   * False when the row is no longer this sender's to send (another worker has
   * it, or it is settled): skip it. `after`: a group-committing ledger calls it
   * synchronously right after the COMMIT (see OutgoingMessage.commit).
   */
  markCommitted(
    edition: string,
    subscriberId: number,
    transport: string,
    after?: () => void,
  ): Awaitable<boolean>;
  markSent(edition: string, subscriberId: number, response: string): Awaitable<void>;
  flush(): Awaitable<void>;
  markFailed(
    edition: string,
    subscriberId: number,
    state: 'deferred' | 'failed' | 'queued',
    error: string,
    opts: { countAttempt: boolean; bounce?: boolean },
  ): Awaitable<void>;
  markInDoubt(edition: string, subscriberId: number, error: string): Awaitable<void>;
  markSuppressed(edition: string, subscriberId: number, reason: string): Awaitable<void>;
  counts(edition: string): Awaitable<Record<SendState, number>>;
}

/** The ledger of an open store; `worker` names this process's claims on PostgreSQL. */
export function ledgerFor(backend: Backend, opts: { worker?: string; now?: () => Date } = {}): LedgerStore {
  return backend.kind === 'sqlite'
    ? new Ledger(backend.db, opts.now)
    : new PgLedger(backend.pool, backend.url, opts.worker ?? null, opts.now);
}

/**
 * The send ledger: one row per edition × subscriber. Every state change is its
 * own small transaction so that what is on disk is always what has happened
 * (see send.ts for the order of writes around the SMTP transaction) — with one
 * exception, `sent` (below).
 *
 * `sent` rows are written with the next `committed` row, in its transaction,
 * or by a flush at the end of the current event-loop turn, whichever comes
 * first (issue 16: a SQLite commit per write was a tenth of a send's CPU, and
 * during a send a commit follows every reply). A row whose `sent` is not yet
 * on disk is `committed` there: a kill in that window leaves it unconfirmed,
 * which is never sent again — the same outcome as a kill just before the 250
 * was read. Every read of this Ledger flushes first.
 */
type CommitArgs = readonly [transport: string, at: string, edition: string, subscriberId: number];

export class Ledger implements LedgerStore {
  private readonly stmts;
  /** `sent` marks not yet written: the arguments of stmts.sent. */
  private unsent: [string, string, string, string, number][] = [];
  /** Group commit: `committed` marks waiting for this turn's transaction, with their callers. */
  private commits: {
    args: CommitArgs;
    after?: () => void;
    resolve: (ours: boolean) => void;
    reject: (err: unknown) => void;
  }[] = [];
  private flushQueued = false;
  /** One transaction function for every flush (better-sqlite3 builds four wrappers per db.transaction() call). */
  private readonly sentTx;
  private readonly groupCommit: boolean;

  constructor(
    private readonly db: DB,
    private readonly now: () => Date = () => new Date(),
    /**
     * groupCommit: markCommitted returns a promise, and every `committed` mark
     * asked for in one event-loop turn is written in one transaction at the end
     * of that turn (with the `sent` marks read so far), before any "." is
     * written. A send's connections tend to reach their "." together (2.65
     * marks per transaction in bench/send): a SQLite commit per message was a
     * seventh of the sender's CPU. Used by sendEdition; off, markCommitted writes at once.
     */
    opts: { groupCommit?: boolean } = {},
  ) {
    this.groupCommit = opts.groupCommit ?? false;
    this.stmts = {
      committed: db.prepare(
        "UPDATE sends SET state = 'committed', attempts = attempts + 1, transport = ?, updated_at = ? WHERE edition = ? AND subscriber_id = ?",
      ),
      sent: db.prepare(
        "UPDATE sends SET state = 'sent', response = ?, last_error = NULL, updated_at = ?, sent_at = ? WHERE edition = ? AND subscriber_id = ?",
      ),
      failed: db.prepare(
        'UPDATE sends SET state = ?, attempts = attempts + ?, last_error = ?, updated_at = ? WHERE edition = ? AND subscriber_id = ?',
      ),
      bounce: db.prepare(
        "UPDATE subscribers SET status = 'bounced', status_reason = ?, status_at = ?, updated_at = ? WHERE id = ? AND status = 'active'",
      ),
    };
    this.sentTx = db.transaction(
      (
        rows: [string, string, string, string, number][],
        also?: () => void,
        commits?: readonly CommitArgs[],
      ) => {
        // Committed first: a row committed and answered in the same turn ends `sent`.
        if (commits) for (const c of commits) this.stmts.committed.run(...c);
        for (const r of rows) this.stmts.sent.run(...r);
        also?.();
      },
    );
  }

  /**
   * Queue every active subscriber who has no row for this edition yet; rows
   * that exist keep their state. A new Message-ID is made once per row, so a
   * retried message keeps its id. One transaction for all rows.
   */
  enqueue(edition: string, domain: string): number {
    const now = this.now().toISOString();
    const prefix = `${edition}.${randomBytes(4).toString('hex')}`;
    const r = this.db
      .prepare(
        `INSERT OR IGNORE INTO sends (edition, subscriber_id, email, state, message_id, created_at, updated_at)
         SELECT ?, id, email, 'queued', '<' || ? || '.' || id || '@' || ? || '>', ?, ? FROM subscribers b WHERE status = 'active'
         ${WANTS_EDITION}`,
      )
      .run(edition, prefix, domain, now, now, ...wantsEditionArgs(edition, this.now()));
    return r.changes;
  }

  /** Rows still to send (queued or deferred by an earlier run), oldest subscriber first. */
  pending(edition: string, limit?: number): LedgerRow[] {
    this.flush();
    return this.db
      .prepare(
        `SELECT s.edition, s.subscriber_id AS subscriberId, s.email, b.name, b.locale, b.status AS subscriberStatus,
                s.state, s.attempts, s.message_id AS messageId
         FROM sends s JOIN subscribers b ON b.id = s.subscriber_id
         WHERE s.edition = ? AND s.state IN ('queued','deferred') ORDER BY s.subscriber_id LIMIT ?`,
      )
      .all(edition, limit ?? -1) as LedgerRow[];
  }

  /** How many rows pending() would return (for a streamed send's total). */
  pendingCount(edition: string, limit?: number): number {
    this.flush();
    const n = this.db
      .prepare("SELECT count(*) FROM sends WHERE edition = ? AND state IN ('queued','deferred')")
      .pluck()
      .get(edition) as number;
    return limit === undefined || limit < 0 ? n : Math.min(n, limit);
  }

  /**
   * The rows of pending(), read a page at a time with a keyset cursor on the
   * subscriber id: a send to 100,000 readers holds one page, not the list.
   * Rows that change state behind the cursor are not seen again; rows ahead
   * of it are read as they are when their page is.
   */
  *pendingStream(edition: string, limit?: number, pageSize = 500): Generator<LedgerRow> {
    const page = this.db.prepare(
      `SELECT s.edition, s.subscriber_id AS subscriberId, s.email, b.name, b.locale, b.status AS subscriberStatus,
              s.state, s.attempts, s.message_id AS messageId
       FROM sends s JOIN subscribers b ON b.id = s.subscriber_id
       WHERE s.edition = ? AND s.subscriber_id > ? AND s.state IN ('queued','deferred')
       ORDER BY s.subscriber_id LIMIT ?`,
    );
    let left = limit === undefined || limit < 0 ? Number.POSITIVE_INFINITY : limit;
    let after = -1;
    while (left > 0) {
      this.flush();
      const rows = page.all(edition, after, Math.min(pageSize, left)) as LedgerRow[];
      if (!rows.length) return;
      for (const r of rows) yield r;
      left -= rows.length;
      after = rows[rows.length - 1]!.subscriberId;
    }
  }

  /** What a send would do now, without writing: active subscribers with nothing settled for the edition. */
  wouldSend(edition: string, limit?: number): WouldSendRow[] {
    this.flush();
    return this.db
      .prepare(
        `SELECT b.id AS subscriberId, b.email, b.name, b.locale FROM subscribers b
         LEFT JOIN sends s ON s.subscriber_id = b.id AND s.edition = ?
         WHERE b.status = 'active' AND (s.state IS NULL OR s.state IN ('queued','deferred'))
         ${WANTS_EDITION}
         ORDER BY b.id LIMIT ?`,
      )
      .all(edition, ...wantsEditionArgs(edition, this.now()), limit ?? -1) as WouldSendRow[];
  }

  /**
   * The point of no return for one message: written just before its
   * end-of-data goes out. With groupCommit, a promise settled by this turn's
   * transaction (the caller writes the "." only then).
   */
  markCommitted(
    edition: string,
    subscriberId: number,
    transport: string,
    after?: () => void,
  ): boolean | Promise<boolean> {
    const args: CommitArgs = [transport, this.now().toISOString(), edition, subscriberId];
    if (this.groupCommit)
      return new Promise<boolean>((resolve, reject) => {
        this.commits.push({ args, after, resolve, reject });
        this.flushSoon();
      });
    if (!this.unsent.length) {
      this.stmts.committed.run(...args);
      return true;
    }
    // One commit for this row and the replies read since the last one. If it
    // throws, nothing of it is written: the sent marks stay queued.
    this.writeSent(() => this.stmts.committed.run(...args));
    return true;
  }

  /** The server took the message (its 250): written with the next commit or at the end of this turn. */
  markSent(edition: string, subscriberId: number, response: string) {
    const now = this.now().toISOString();
    this.unsent.push([response.slice(0, 500), now, now, edition, subscriberId]);
    this.flushSoon();
  }

  /** At the end of this event-loop turn (setImmediate: after the I/O callbacks it polled). */
  private flushSoon() {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      try {
        this.flush();
      } catch {
        // The store refused the write (busy, full): `sent` marks are kept for
        // the next commit or read; waiting commits were told (rejected).
      }
    });
  }

  /** Writes the waiting `committed` and `sent` marks now (one transaction). Every read calls it first. */
  flush() {
    if (this.commits.length) this.writeCommits();
    else if (this.unsent.length) this.writeSent();
  }

  private writeCommits() {
    const waiting = this.commits;
    this.commits = [];
    try {
      this.sentTx(
        this.unsent,
        undefined,
        waiting.map((c) => c.args),
      );
    } catch (err) {
      // Nothing of it is written: no "." may go out for these; the sent marks stay queued.
      for (const c of waiting) c.reject(err);
      throw err;
    }
    this.unsent = [];
    // Every marker first, back to back right after the COMMIT; then the callers' promises.
    for (const c of waiting) {
      try {
        c.after?.();
      } catch {
        // A marker that could not be written: its transport finds the socket gone.
      }
    }
    for (const c of waiting) c.resolve(true);
  }

  private writeSent(also?: () => void) {
    this.sentTx(this.unsent, also);
    this.unsent = []; // synchronous: no mark was queued while it ran
  }

  /**
   * A failed attempt. `countAttempt` is false when markCommitted already
   * counted it. Permanent failures also mark the subscriber bounced, in the
   * same transaction.
   */
  markFailed(
    edition: string,
    subscriberId: number,
    state: 'deferred' | 'failed' | 'queued',
    error: string,
    opts: { countAttempt: boolean; bounce?: boolean },
  ) {
    const now = this.now().toISOString();
    this.db.transaction(() => {
      this.stmts.failed.run(
        state,
        opts.countAttempt ? 1 : 0,
        error.slice(0, 500),
        now,
        edition,
        subscriberId,
      );
      if (opts.bounce) this.stmts.bounce.run(error.slice(0, 500), now, now, subscriberId);
    })();
  }

  /**
   * The end-of-data went out and no reply came in time: the row stays
   * `committed` (in doubt, never sent again); only the reason is recorded.
   */
  markInDoubt(edition: string, subscriberId: number, error: string) {
    this.db
      .prepare(
        "UPDATE sends SET last_error = ?, updated_at = ? WHERE edition = ? AND subscriber_id = ? AND state = 'committed'",
      )
      .run(error.slice(0, 500), this.now().toISOString(), edition, subscriberId);
  }

  markSuppressed(edition: string, subscriberId: number, reason: string) {
    this.stmts.failed.run('suppressed', 0, reason, this.now().toISOString(), edition, subscriberId);
  }

  /** Counts by state for an edition (all states present, zero when none). */
  counts(edition: string): Record<SendState, number> {
    this.flush();
    const out = Object.fromEntries(SEND_STATES.map((s) => [s, 0])) as Record<SendState, number>;
    const rows = this.db
      .prepare('SELECT state, count(*) AS n FROM sends WHERE edition = ? GROUP BY state')
      .all(edition) as {
      state: SendState;
      n: number;
    }[];
    for (const r of rows) out[r.state] = r.n;
    return out;
  }
}
