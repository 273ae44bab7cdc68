import {
  bracketed,
  DEFAULT_POLICY,
  decide,
  type EventAction,
  type EventPolicy,
  eventRow,
  eventTarget,
  INSERT_EVENT,
  type MailEventInput,
  type MailEventStore,
  type RecordResult,
  type SendRef,
  softWindowStart,
} from '../events.ts';
import type { PgClient, PgPool } from './pool.ts';
import { dollars, tx } from './subscribers.ts';
import { suppressIn } from './suppression.ts';

// Mail events on the PostgreSQL store (issue 17): the policy of MailEvents
// (src/store/events.ts), stored and applied in ONE transaction. Hosts record
// events concurrently (inbound on one, webhooks on every serve replica), so
// the reader's row is locked (SELECT … FOR UPDATE) BEFORE the event is
// inserted: a second event for the same reader waits, then counts the first
// one's soft bounce and sees its status — the soft-bounce limit and "never
// weaken a status" hold across hosts. A repeat of (source, external_id) is
// ignored by the unique index (ON CONFLICT DO NOTHING waits for an in-flight
// twin and then skips).

export class PgMailEvents implements MailEventStore {
  constructor(
    readonly pool: PgPool,
    private readonly keys: readonly Buffer[],
    private readonly policy: EventPolicy = DEFAULT_POLICY,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(e: MailEventInput): Promise<RecordResult> {
    return tx(this.pool, (c) => this.recordIn(c, e));
  }

  private async recordIn(c: PgClient, e: MailEventInput): Promise<RecordResult> {
    const now = this.now();
    const acts = eventTarget(e.kind) !== undefined && e.subscriberId != null;
    const reader = acts
      ? (
          await c.query<{ email: string; status: string }>(
            'SELECT email, status FROM subscribers WHERE id = $1 FOR UPDATE',
            [e.subscriberId],
          )
        ).rows[0]
      : undefined;
    const ins = await c.query<{ id: number }>(`${dollars(INSERT_EVENT)} RETURNING id`, eventRow(e, now));
    const id = ins.rows[0]?.id;
    if (id === undefined) return { id: undefined, action: 'duplicate' };
    const action = await this.apply(c, e, now, reader);
    await c.query('UPDATE mail_events SET action = $1 WHERE id = $2', [action, id]);
    return { id, action };
  }

  private async apply(
    c: PgClient,
    e: MailEventInput,
    now: Date,
    reader: { email: string; status: string } | undefined,
  ): Promise<EventAction> {
    const target = eventTarget(e.kind);
    if (!target) return 'recorded';
    if (e.subscriberId == null || !reader) return 'no-reader';
    const soft =
      target === 'soft'
        ? (
            await c.query<{ n: number }>(
              "SELECT count(*) AS n FROM mail_events WHERE subscriber_id = $1 AND kind = 'bounce_soft' AND occurred_at >= $2",
              [e.subscriberId, softWindowStart(now, this.policy)],
            )
          ).rows[0]!.n
        : undefined;
    const d = decide(e, reader.status, this.policy, soft);
    if (!d.status) return d.action;
    const iso = now.toISOString();
    await c.query(
      'UPDATE subscribers SET status = $1, status_reason = $2, status_at = $3, updated_at = $3 WHERE id = $4',
      [d.status, d.reason, iso, e.subscriberId],
    );
    if (d.status !== 'unsubscribed') await suppressIn(c, this.keys, reader.email, d.status, iso);
    return d.action;
  }

  async sendByMessageId(messageId: string): Promise<SendRef | undefined> {
    const r = await this.pool.query<SendRef>(
      'SELECT edition, subscriber_id AS "subscriberId" FROM sends WHERE message_id = $1',
      [bracketed(messageId)],
    );
    return r.rows[0];
  }

  async latestSendTo(email: string): Promise<SendRef | undefined> {
    const r = await this.pool.query<SendRef>(
      `SELECT s.edition, s.subscriber_id AS "subscriberId" FROM sends s JOIN subscribers b ON b.id = s.subscriber_id
         WHERE b.email = $1 ORDER BY s.updated_at DESC LIMIT 1`,
      [email.trim().toLowerCase()],
    );
    return r.rows[0];
  }
}
