import type { Awaitable, Backend } from './backend.ts';
import type { DB } from './db.ts';
import { PgMailEvents } from './pg/events.ts';
import { stmt } from './statements.ts';
import { SuppressionList } from './suppression.ts';

// What happened to a message after it left (issue 15): one shared mechanism for
// every way news of it arrives — DSNs and ARF reports at `broadsheet inbound`
// or the IMAP poller, mailto unsubscribes, and the ESP webhooks on `serve`.
// Each source parses its own format into a MailEventInput; record() stores it
// (once: a repeat of the same external id is ignored) and applies the policy:
//
//   bounce_hard  the reader is marked bounced at once (and suppressed)
//   bounce_soft  counted; `softBounceLimit` of them within `softBounceWindowDays`
//                mark the reader bounced
//   complaint    the reader is marked complained (unsubscribed) and suppressed
//   unsubscribe  the reader is marked unsubscribed (idempotent)
//   delivered, deferred
//                recorded for the report; nothing changes
//   unknown      stored for a human; never acted on
//
// A stronger status is never weakened: complained > bounced > unsubscribed > active.

export const EVENT_KINDS = [
  'delivered',
  'deferred',
  'bounce_hard',
  'bounce_soft',
  'complaint',
  'unsubscribe',
  'unknown',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
/** Where the news came from; 'link' is the /u/ one-click link and the preference centre. */
export type EventSource = 'inbound' | 'imap' | 'ses' | 'postmark' | 'sendgrid' | 'mailgun' | 'link';

export interface MailEventInput {
  kind: EventKind;
  source: EventSource;
  /** The reader, when the source names one (VERP token, Message-ID, recipient). */
  subscriberId?: number | null;
  edition?: string | null;
  /** Enhanced status code (5.1.1) or the provider's type, for people. */
  status?: string | null;
  /** Short, human text: the diagnostic line, the provider's reason. Never the whole message. */
  detail?: string | null;
  /** The provider's event id or the report's own Message-ID: a second event with it is ignored. */
  externalId?: string | null;
  /** inbound_messages row holding the raw source. */
  inboundId?: number | null;
  /** When it happened (the provider's timestamp); default now. */
  occurredAt?: Date;
}

/** What record() did: the reader's change, if any. */
export type EventAction =
  | 'duplicate'
  | 'recorded'
  | 'bounced'
  | 'complained'
  | 'unsubscribed'
  | 'counted'
  | 'no-reader'
  | 'kept-status';

export interface EventPolicy {
  /** Soft bounces within the window that mark a reader bounced (default 3). */
  softBounceLimit: number;
  softBounceWindowDays: number;
}

export const DEFAULT_POLICY: EventPolicy = { softBounceLimit: 3, softBounceWindowDays: 30 };

export const RANK: Record<string, number> = { active: 0, unsubscribed: 1, bounced: 2, complained: 3 };

export interface RecordResult {
  id: number | undefined;
  action: EventAction;
}

export type SendRef = { edition: string; subscriberId: number };

/** The mail events (issue 17): SQLite below, PostgreSQL in src/store/pg/events.ts. */
export interface MailEventStore {
  /** Store the event and apply the policy, in one transaction. */
  record(e: MailEventInput): Awaitable<RecordResult>;
  sendByMessageId(messageId: string): Awaitable<SendRef | undefined>;
  latestSendTo(email: string): Awaitable<SendRef | undefined>;
}

export function mailEventsFor(
  backend: Backend,
  keys: readonly Buffer[],
  policy: EventPolicy = DEFAULT_POLICY,
  now: () => Date = () => new Date(),
): MailEventStore {
  return backend.kind === 'sqlite'
    ? new MailEvents(backend.db, keys, policy, now)
    : new PgMailEvents(backend.pool, keys, policy, now);
}

/** The status an actionable event aims at ('soft': counted first), or undefined for the rest. */
export const eventTarget = (kind: EventKind) =>
  kind === 'bounce_hard'
    ? ('bounced' as const)
    : kind === 'complaint'
      ? ('complained' as const)
      : kind === 'unsubscribe'
        ? ('unsubscribed' as const)
        : kind === 'bounce_soft'
          ? ('soft' as const)
          : undefined;

/** The reader's new status and its reason, after `soft` soft bounces in the window (soft kinds only). */
export function decide(
  e: MailEventInput,
  current: string,
  policy: EventPolicy,
  softCount?: number,
): { action: EventAction; status?: 'bounced' | 'complained' | 'unsubscribed'; reason?: string } {
  const target = eventTarget(e.kind)!;
  const status = target === 'soft' ? 'bounced' : target;
  let reason = `${e.source}: ${e.kind}${e.status ? ` ${e.status}` : ''}`;
  if (target === 'soft') {
    if ((softCount ?? 0) < policy.softBounceLimit) return { action: 'counted' };
    reason = `${softCount} soft bounces in ${policy.softBounceWindowDays} days (${e.source})`;
  }
  if ((RANK[current] ?? 0) >= RANK[status]!) return { action: 'kept-status' };
  return { action: status, status, reason: reason.slice(0, 200) };
}

export const softWindowStart = (now: Date, policy: EventPolicy) =>
  new Date(now.getTime() - policy.softBounceWindowDays * 86_400_000).toISOString();

/** Store an event once: a repeat of (source, external id) is skipped (both stores). */
export const INSERT_EVENT = `INSERT INTO mail_events (kind, source, subscriber_id, edition, status, detail, external_id, inbound_id, occurred_at, received_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (source, external_id) WHERE external_id IS NOT NULL DO NOTHING`;

export const eventRow = (e: MailEventInput, now: Date): unknown[] => [
  e.kind,
  e.source,
  e.subscriberId ?? null,
  e.edition ?? null,
  e.status ?? null,
  e.detail ? e.detail.slice(0, 500) : null,
  e.externalId ?? null,
  e.inboundId ?? null,
  (e.occurredAt ?? now).toISOString(),
  now.toISOString(),
];

export class MailEvents implements MailEventStore {
  constructor(
    readonly db: DB,
    private readonly keys: readonly Buffer[],
    private readonly policy: EventPolicy = DEFAULT_POLICY,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Store the event and apply the policy, in one transaction. */
  record(e: MailEventInput): RecordResult {
    return this.db.transaction((): RecordResult => {
      const now = this.now();
      const ins = stmt(this.db, INSERT_EVENT).run(...eventRow(e, now));
      if (ins.changes === 0) return { id: undefined, action: 'duplicate' };
      const id = Number(ins.lastInsertRowid);
      const action = this.apply(e, now);
      stmt(this.db, 'UPDATE mail_events SET action = ? WHERE id = ?').run(action, id);
      return { id, action };
    })();
  }

  private apply(e: MailEventInput, now: Date): EventAction {
    const target = eventTarget(e.kind);
    if (!target) return 'recorded';
    if (e.subscriberId == null) return 'no-reader';
    const s = stmt(this.db, 'SELECT email, status FROM subscribers WHERE id = ?').get(e.subscriberId) as
      | { email: string; status: string }
      | undefined;
    if (!s) return 'no-reader';
    const soft =
      target === 'soft'
        ? (
            stmt(
              this.db,
              "SELECT count(*) AS n FROM mail_events WHERE subscriber_id = ? AND kind = 'bounce_soft' AND occurred_at >= ?",
            ).get(e.subscriberId, softWindowStart(now, this.policy)) as { n: number }
          ).n
        : undefined;
    const d = decide(e, s.status, this.policy, soft);
    if (!d.status) return d.action;
    const iso = now.toISOString();
    stmt(
      this.db,
      'UPDATE subscribers SET status = ?, status_reason = ?, status_at = ?, updated_at = ? WHERE id = ?',
    ).run(d.status, d.reason, iso, iso, e.subscriberId);
    if (d.status !== 'unsubscribed') new SuppressionList(this.db, this.keys, this.now).add(s.email, d.status);
    return d.action;
  }

  /** The send a Message-ID belongs to (ESP events and DSNs name the original Message-ID). */
  sendByMessageId(messageId: string): SendRef | undefined {
    const id = bracketed(messageId);
    return stmt(this.db, 'SELECT edition, subscriber_id AS subscriberId FROM sends WHERE message_id = ?').get(
      id,
    ) as { edition: string; subscriberId: number } | undefined;
  }

  /** The latest send to an address (ESP events that carry only the recipient). */
  latestSendTo(email: string): SendRef | undefined {
    return stmt(
      this.db,
      `SELECT s.edition, s.subscriber_id AS subscriberId FROM sends s JOIN subscribers b ON b.id = s.subscriber_id
         WHERE b.email = ? ORDER BY s.updated_at DESC LIMIT 1`,
    ).get(email.trim().toLowerCase()) as { edition: string; subscriberId: number } | undefined;
  }
}

/** A Message-ID as the ledger stores it: in angle brackets. */
export const bracketed = (messageId: string) =>
  messageId.trim().startsWith('<') ? messageId.trim() : `<${messageId.trim()}>`;
