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
  /** False when the row is no longer this sender's to send (another worker has it, or it is settled): skip it. */
  markCommitted(edition: string, subscriberId: number, transport: string): Awaitable<boolean>;
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
export class Ledger implements LedgerStore {
  private readonly stmts;
  /** `sent` marks not yet written: the arguments of stmts.sent. */
  private unsent: [string, string, string, string, number][] = [];
  private flushQueued = false;
  /** One transaction function for every flush (better-sqlite3 builds four wrappers per db.transaction() call). */
  private readonly sentTx;

  constructor(
    private readonly db: DB,
    private readonly now: () => Date = () => new Date(),
  ) {
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
    this.sentTx = db.transaction((rows: [string, string, string, string, number][], also?: () => void) => {
      for (const r of rows) this.stmts.sent.run(...r);
      also?.();
    });
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

  /** The point of no return for one message: written (and synced) just before its end-of-data goes out. */
  markCommitted(edition: string, subscriberId: number, transport: string): boolean {
    const args = [transport, this.now().toISOString(), edition, subscriberId] as const;
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
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => {
        this.flushQueued = false;
        try {
          this.flush();
        } catch {
          // The store refused the write (busy, full): kept, written by the next commit or read.
        }
      });
    }
  }

  /** Writes the queued `sent` marks now (one transaction). Every read calls it first. */
  flush() {
    if (this.unsent.length) this.writeSent();
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
