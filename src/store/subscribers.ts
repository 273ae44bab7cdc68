import type { Awaitable, Backend } from './backend.ts';
import { ConsentRepo, type ConsentSource } from './consent.ts';
import type { DB } from './db.ts';
import { PgSubscribers } from './pg/subscribers.ts';
import { stmt } from './statements.ts';

export const SUBSCRIBER_STATUSES = ['active', 'unsubscribed', 'bounced', 'complained'] as const;
export type SubscriberStatus = (typeof SUBSCRIBER_STATUSES)[number];

export interface Subscriber {
  id: number;
  email: string;
  name: string | null;
  locale: string | null;
  topics: string[];
  status: SubscriberStatus;
  statusReason: string | null;
  source: string | null;
  createdAt: string;
  updatedAt: string;
  statusAt: string | null;
  /** Edition names the reader wants; null = every edition. */
  editions: string[] | null;
  /** YYYY-MM-DD: nothing is sent before this day. */
  pausedUntil: string | null;
}

export interface Row {
  id: number;
  email: string;
  name: string | null;
  locale: string | null;
  topics: string;
  status: SubscriberStatus;
  status_reason: string | null;
  source: string | null;
  created_at: string;
  updated_at: string;
  status_at: string | null;
  editions: string | null;
  paused_until: string | null;
}

export const fromRow = (r: Row): Subscriber => ({
  id: r.id,
  email: r.email,
  name: r.name,
  locale: r.locale,
  topics: JSON.parse(r.topics) as string[],
  status: r.status,
  statusReason: r.status_reason,
  source: r.source,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  statusAt: r.status_at,
  editions: r.editions ? (JSON.parse(r.editions) as string[]) : null,
  pausedUntil: r.paused_until,
});

/**
 * Addresses are compared lower-cased and trimmed. (The local part is case
 * sensitive in theory; no mailbox provider treats it so, and "A@x" and "a@x"
 * as two subscribers would mail one reader twice.)
 */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export interface SubscriberInput {
  email: string;
  name?: string;
  locale?: string;
  topics?: string[];
}

const CONSENT_SOURCES = ['form', 'import', 'cli', 'preferences'] as const;

/**
 * The consent record a newly added reader gets (issue 14): how they came.
 * Sources read "import:<file>", "cli", "form", …: the part before ":" is the kind.
 */
export function firstConsent(source: string): { source: ConsentSource; detail?: string } {
  const kind = source.split(':')[0]!;
  const known = (CONSENT_SOURCES as readonly string[]).includes(kind);
  return {
    source: known ? (kind as ConsentSource) : 'cli',
    ...(source !== kind || !known ? { detail: source } : {}),
  };
}

export type UpsertOutcome = 'added' | 'updated' | 'unchanged' | 'kept-status';

export interface PreferencesChange {
  name?: string | null;
  locale?: string | null;
  topics?: string[];
  editions?: string[] | null;
  pausedUntil?: string | null;
}

/**
 * The readers (issue 17): one interface, the SQLite repository below
 * (synchronous, unchanged) and the PostgreSQL one (src/store/pg/subscribers.ts).
 * Callers `await` every call.
 */
export interface Subscribers {
  get(email: string): Awaitable<Subscriber | undefined>;
  byId(id: number): Awaitable<Subscriber | undefined>;
  list(opts?: { status?: SubscriberStatus }): Awaitable<Subscriber[]>;
  count(status?: SubscriberStatus): Awaitable<number>;
  /** Add or update one reader's details; the status is never touched. */
  upsert(input: SubscriberInput, source: string): Awaitable<UpsertOutcome>;
  /** Many upserts in one transaction: all or nothing. */
  upsertMany(inputs: SubscriberInput[], source: string): Awaitable<Record<UpsertOutcome, number>>;
  setPreferences(id: number, p: PreferencesChange): Awaitable<void>;
  /** Change the status (unsubscribe, bounce, complaint); false for an unknown address. */
  setStatus(email: string, status: SubscriberStatus, reason?: string): Awaitable<boolean>;
}

/** The readers of the store `backend` opened. */
export function subscribersFor(backend: Backend, now: () => Date = () => new Date()): Subscribers {
  return backend.kind === 'sqlite'
    ? new SubscriberRepo(backend.db, now)
    : new PgSubscribers(backend.pool, now);
}

export const SET_PREFERENCES =
  'UPDATE subscribers SET name = ?, locale = ?, topics = ?, editions = ?, paused_until = ?, updated_at = ? WHERE id = ?';

/** SET_PREFERENCES's arguments: each field of `p` when given, else the reader's own. */
export function preferencesRow(cur: Subscriber, p: PreferencesChange, now: Date): unknown[] {
  const pick = <T>(v: T | undefined, old: T) => (v === undefined ? old : v);
  const editions = pick(p.editions, cur.editions);
  return [
    pick(p.name, cur.name),
    pick(p.locale, cur.locale),
    JSON.stringify(pick(p.topics, cur.topics)),
    editions ? JSON.stringify(editions) : null,
    pick(p.pausedUntil, cur.pausedUntil),
    now.toISOString(),
    cur.id,
  ];
}

export class SubscriberRepo implements Subscribers {
  constructor(
    readonly db: DB,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get(email: string): Subscriber | undefined {
    const r = this.db.prepare('SELECT * FROM subscribers WHERE email = ?').get(normalizeEmail(email)) as
      | Row
      | undefined;
    return r && fromRow(r);
  }

  byId(id: number): Subscriber | undefined {
    const r = this.db.prepare('SELECT * FROM subscribers WHERE id = ?').get(id) as Row | undefined;
    return r && fromRow(r);
  }

  list(opts: { status?: SubscriberStatus } = {}): Subscriber[] {
    const rows = opts.status
      ? this.db.prepare('SELECT * FROM subscribers WHERE status = ? ORDER BY id').all(opts.status)
      : this.db.prepare('SELECT * FROM subscribers ORDER BY id').all();
    return (rows as Row[]).map(fromRow);
  }

  count(status?: SubscriberStatus): number {
    const r = status
      ? this.db.prepare('SELECT count(*) AS n FROM subscribers WHERE status = ?').get(status)
      : this.db.prepare('SELECT count(*) AS n FROM subscribers').get();
    return (r as { n: number }).n;
  }

  /**
   * Add or update a subscriber's details. The status is never touched here:
   * an unsubscribed, bounced or complained address stays so when it is
   * imported again (`kept-status`), so a re-import can never re-subscribe it.
   */
  upsert(input: SubscriberInput, source: string): UpsertOutcome {
    const now = this.now().toISOString();
    const email = normalizeEmail(input.email);
    const topics = JSON.stringify(input.topics ?? []);
    const existing = stmt(this.db, 'SELECT * FROM subscribers WHERE email = ?').get(email) as Row | undefined;
    if (!existing) {
      const id = Number(
        stmt(
          this.db,
          `INSERT INTO subscribers (email, name, locale, topics, status, source, created_at, updated_at)
           VALUES (?, ?, ?, ?, 'active', ?, ?, ?)`,
        ).run(email, input.name ?? null, input.locale ?? null, topics, source, now, now).lastInsertRowid,
      );
      // Every reader gets a consent record when first added (issue 14): how they came.
      new ConsentRepo(this.db, this.now).record(id, { ...firstConsent(source), signupAt: now });
      return 'added';
    }
    const name = input.name ?? existing.name;
    const locale = input.locale ?? existing.locale;
    const changed = name !== existing.name || locale !== existing.locale || topics !== existing.topics;
    if (changed)
      stmt(
        this.db,
        'UPDATE subscribers SET name = ?, locale = ?, topics = ?, updated_at = ? WHERE id = ?',
      ).run(name, locale, topics, now, existing.id);
    if (existing.status !== 'active') return 'kept-status';
    return changed ? 'updated' : 'unchanged';
  }

  /** Many upserts in one transaction (one fsync for a whole CSV). */
  upsertMany(inputs: SubscriberInput[], source: string): Record<UpsertOutcome, number> {
    const counts: Record<UpsertOutcome, number> = { added: 0, updated: 0, unchanged: 0, 'kept-status': 0 };
    this.db.transaction(() => {
      for (const i of inputs) counts[this.upsert(i, source)]++;
    })();
    return counts;
  }

  /** What the preference centre changes (each field only when given). */
  setPreferences(id: number, p: PreferencesChange): void {
    const cur = this.byId(id);
    if (cur) this.db.prepare(SET_PREFERENCES).run(...preferencesRow(cur, p, this.now()));
  }

  /** Change the status (unsubscribe, bounce, complaint); returns false for an unknown address. */
  setStatus(email: string, status: SubscriberStatus, reason?: string): boolean {
    const now = this.now().toISOString();
    const r = this.db
      .prepare(
        'UPDATE subscribers SET status = ?, status_reason = ?, status_at = ?, updated_at = ? WHERE email = ?',
      )
      .run(status, reason ?? null, now, now, normalizeEmail(email));
    return r.changes > 0;
  }
}
