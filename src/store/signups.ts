import type { Awaitable, Backend } from './backend.ts';
import { ConsentRepo } from './consent.ts';
import type { DB } from './db.ts';
import { PgSignups } from './pg/signups.ts';
import { normalizeEmail, SubscriberRepo } from './subscribers.ts';
import { SuppressionList } from './suppression.ts';

// Pending double opt-ins (issue 14). A signup becomes a subscriber only when
// its owner POSTs the confirm link; until then it lives here, and is purged when
// it expires. Confirming is what lifts a suppression (a forgotten or
// unsubscribed reader coming back), so no import can do that.

export interface Signup {
  id: number;
  email: string;
  name: string | null;
  locale: string | null;
  topics: string[];
  list: string;
  ipHash: string | null;
  createdAt: string;
  expiresAt: string;
  confirmedAt: string | null;
}

export interface Row {
  id: number;
  email: string;
  name: string | null;
  locale: string | null;
  topics: string;
  list: string;
  ip_hash: string | null;
  created_at: string;
  expires_at: string;
  confirmed_at: string | null;
}

export const fromRow = (r: Row): Signup => ({
  id: r.id,
  email: r.email,
  name: r.name,
  locale: r.locale,
  topics: JSON.parse(r.topics) as string[],
  list: r.list,
  ipHash: r.ip_hash,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  confirmedAt: r.confirmed_at,
});

/** What an expired, cancelled or forgotten signup keeps: nothing about the reader. */
export const SCRUB =
  "UPDATE signups SET email = '', name = NULL, locale = NULL, topics = '[]', ip_hash = NULL";

export type ConfirmOutcome = 'confirmed' | 'already' | 'expired';

/** The signup rate limit, counted in the store so every `serve` replica sees every attempt (issue 17). */
export interface SignupHits {
  /** Count one attempt for `key`; whether it is within `max` attempts over the last `windowMs`. */
  hit(key: string, max: number, windowMs: number): Awaitable<boolean>;
}

export interface SignupInput {
  email: string;
  name?: string;
  locale?: string;
  topics?: string[];
  list: string;
  ipHash?: string;
}

/**
 * Pending signups and their rate limit (issue 17): SignupRepo on SQLite,
 * PgSignups (src/store/pg/signups.ts) on PostgreSQL — the same outcomes.
 */
export interface Signups extends SignupHits {
  /** Scrub expired, unconfirmed signups; drop rate-limit hits older than a day. */
  purge(): Awaitable<void>;
  pending(email: string, list: string): Awaitable<Signup | undefined>;
  create(input: SignupInput, expiryHours: number): Awaitable<Signup>;
  get(id: number): Awaitable<Signup | undefined>;
  cancel(id: number): Awaitable<void>;
  confirm(id: number): Awaitable<ConfirmOutcome>;
}

/**
 * The confirmation email's ledger (confirm_sends), one row per signup, written
 * at the transport's commit point on both stores: SQLite inside the write of
 * the end-of-data marker; PostgreSQL just before it (INSERT … ON CONFLICT DO
 * NOTHING — a replica that finds the row aborts its copy), so two `serve`
 * replicas never both deliver one signup's confirmation.
 */
export interface ConfirmLedger {
  /** False once the store is closed (the server is stopping). */
  readonly open: boolean;
  /** Whether it is still to be sent: no row yet. */
  begin(signupId: number): Awaitable<boolean>;
  /** The transport's point of no return; throws (rejects) when another process committed it first. */
  commit(signupId: number, messageId: string, transport: string): void | Promise<void>;
  sent(signupId: number, response: string): Awaitable<void>;
  /** The send failed; `committed`: after the commit point (the server may have it). */
  failed(signupId: number, committed: boolean): Awaitable<void>;
}

/** A route given the SQLite handle (tests, older callers) or the store `serve` opened. */
export const backendOf = (store: DB | Backend): Backend =>
  'kind' in store ? store : { kind: 'sqlite', db: store, file: store.name };

export function signupsFor(
  backend: Backend,
  keys: readonly Buffer[],
  now: () => Date = () => new Date(),
): Signups {
  return backend.kind === 'sqlite'
    ? new SignupRepo(backend.db, keys, now)
    : new PgSignups(backend.pool, keys, now);
}

export function confirmLedgerFor(backend: Backend, now: () => Date = () => new Date()): ConfirmLedger {
  return backend.kind === 'sqlite'
    ? new SqliteConfirmLedger(backend.db, now)
    : PgSignups.ledger(backend.pool, now);
}

export class SqliteConfirmLedger implements ConfirmLedger {
  constructor(
    private readonly db: DB,
    private readonly now: () => Date,
  ) {}
  get open() {
    return this.db.open;
  }
  begin(signupId: number): boolean {
    return this.db.prepare('SELECT 1 FROM confirm_sends WHERE signup_id = ?').get(signupId) === undefined;
  }
  commit(signupId: number, messageId: string, transport: string): void {
    const at = this.now().toISOString();
    this.db
      .prepare(
        `INSERT INTO confirm_sends (signup_id, state, message_id, transport, created_at, updated_at)
         VALUES (?, 'committed', ?, ?, ?, ?)`,
      )
      .run(signupId, messageId, transport, at, at);
  }
  sent(signupId: number, response: string): void {
    this.db
      .prepare("UPDATE confirm_sends SET state = 'sent', response = ?, updated_at = ? WHERE signup_id = ?")
      .run(response.slice(0, 500), this.now().toISOString(), signupId);
  }
  failed(signupId: number): void {
    if (this.db.open)
      this.db
        .prepare("UPDATE confirm_sends SET state = 'failed', updated_at = ? WHERE signup_id = ?")
        .run(this.now().toISOString(), signupId);
  }
}

export class SignupRepo implements Signups {
  constructor(
    private readonly db: DB,
    private readonly keys: readonly Buffer[],
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Drop expired, unconfirmed signups and rate-limit hits older than a day. */
  purge(): void {
    const now = this.now();
    // Scrubbed, not deleted: a deleted last row's id would be handed out again,
    // and a link still held for the old signup would then confirm the new one.
    this.db
      .prepare(`${SCRUB} WHERE confirmed_at IS NULL AND expires_at < ? AND email != ''`)
      .run(now.toISOString());
    this.db.prepare('DELETE FROM signup_hits WHERE at < ?').run(now.getTime() - 86_400_000);
  }

  /**
   * Count one attempt for `key` (a keyed hash of an IP or address) and say
   * whether it is within `max` attempts over the last `windowMs`.
   */
  hit(key: string, max: number, windowMs: number): boolean {
    const now = this.now().getTime();
    const n = (
      this.db
        .prepare('SELECT count(*) AS n FROM signup_hits WHERE key = ? AND at > ?')
        .get(key, now - windowMs) as {
        n: number;
      }
    ).n;
    this.db.prepare('INSERT INTO signup_hits (key, at) VALUES (?, ?)').run(key, now);
    return n < max;
  }

  /** The unexpired pending signup for an address and list, if any. */
  pending(email: string, list: string): Signup | undefined {
    const r = this.db
      .prepare(
        'SELECT * FROM signups WHERE email = ? AND list = ? AND confirmed_at IS NULL AND expires_at >= ? ORDER BY id DESC',
      )
      .get(normalizeEmail(email), list, this.now().toISOString()) as Row | undefined;
    return r && fromRow(r);
  }

  create(input: SignupInput, expiryHours: number): Signup {
    const now = this.now();
    const expires = new Date(now.getTime() + expiryHours * 3_600_000);
    const r = this.db
      .prepare(
        `INSERT INTO signups (email, name, locale, topics, list, ip_hash, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(
        normalizeEmail(input.email),
        input.name ?? null,
        input.locale ?? null,
        JSON.stringify(input.topics ?? []),
        input.list,
        input.ipHash ?? null,
        now.toISOString(),
        expires.toISOString(),
      ) as Row;
    return fromRow(r);
  }

  get(id: number): Signup | undefined {
    const r = this.db.prepare('SELECT * FROM signups WHERE id = ?').get(id) as Row | undefined;
    return r && fromRow(r);
  }

  /** The reader cancelled (one-click on the confirmation email): forget the pending signup. */
  cancel(id: number): void {
    this.db
      .prepare(`${SCRUB}, expires_at = '1970-01-01T00:00:00.000Z' WHERE id = ? AND confirmed_at IS NULL`)
      .run(id);
  }

  /**
   * Confirm: the subscriber is created or re-activated (a fresh confirmation
   * is what a re-subscribe after unsubscribing needs), the suppression lifted,
   * consent recorded with both times; the signup row then keeps no address.
   */
  confirm(id: number): ConfirmOutcome {
    const s = this.get(id);
    if (!s) return 'expired';
    if (s.confirmedAt) return 'already';
    const now = this.now();
    if (s.expiresAt < now.toISOString()) return 'expired';
    const at = now.toISOString();
    const subs = new SubscriberRepo(this.db, this.now);
    this.db.transaction(() => {
      const existing = subs.get(s.email);
      subs.upsert(
        { email: s.email, name: s.name ?? undefined, locale: s.locale ?? undefined, topics: s.topics },
        'form',
      );
      const sub = subs.get(s.email)!;
      if (existing) {
        if (existing.status !== 'active') subs.setStatus(s.email, 'active', `confirmed signup (${s.list})`);
        new ConsentRepo(this.db, this.now).record(sub.id, {
          source: 'form',
          list: s.list,
          signupAt: s.createdAt,
          confirmedAt: at,
          ipHash: s.ipHash ?? undefined,
        });
      } else {
        // upsert recorded the 'form' consent row when it added the reader: complete it.
        this.db
          .prepare(
            `UPDATE consent SET list = ?, signup_at = ?, confirmed_at = ?, ip_hash = ?
             WHERE id = (SELECT max(id) FROM consent WHERE subscriber_id = ?)`,
          )
          .run(s.list, s.createdAt, at, s.ipHash, sub.id);
      }
      new SuppressionList(this.db, this.keys, this.now).remove(s.email);
      this.db
        .prepare("UPDATE signups SET confirmed_at = ?, email = '', name = NULL WHERE id = ?")
        .run(at, id);
    })();
    return 'confirmed';
  }
}
