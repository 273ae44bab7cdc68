import type { Backend } from './backend.ts';
import { ConsentRepo } from './consent.ts';
import type { DB } from './db.ts';
import { exportReaderPg, forgetReaderPg } from './pg/privacy.ts';
import { SCRUB } from './signups.ts';
import { normalizeEmail, SubscriberRepo } from './subscribers.ts';
import { SuppressionList } from './suppression.ts';

// Data protection (issue 14): everything held about one reader, and erasing it.

export interface ReaderExport {
  exportedAt: string;
  profile: ReturnType<SubscriberRepo['get']>;
  consent: ReturnType<ConsentRepo['for']>;
  sends: {
    edition: string;
    state: string;
    attempts: number;
    transport: string | null;
    messageId: string;
    createdAt: string;
    sentAt: string | null;
    lastError: string | null;
  }[];
  events: { at: string; type: string; detail: string | null }[];
  pendingSignups: { list: string; createdAt: string; expiresAt: string; confirmedAt: string | null }[];
}

/** exportReader on either store (issue 17). */
export async function exportReaderFrom(
  backend: Backend,
  email: string,
  now: Date,
): Promise<ReaderExport | undefined> {
  return backend.kind === 'sqlite'
    ? exportReader(backend.db, email, now)
    : exportReaderPg(backend.pool, email, now);
}

/** forgetReader on either store (issue 17): one transaction on both. */
export async function forgetReaderIn(
  backend: Backend,
  keys: readonly Buffer[],
  email: string,
  now: Date,
): Promise<boolean> {
  return backend.kind === 'sqlite'
    ? forgetReader(backend.db, keys, email, now)
    : forgetReaderPg(backend.pool, keys, email, now);
}

/** The export's timeline, oldest first: added, confirmations, sends, the status change. */
export function readerEvents(
  profile: NonNullable<ReaderExport['profile']>,
  consent: ReaderExport['consent'],
  sends: ReaderExport['sends'],
): ReaderExport['events'] {
  const events: ReaderExport['events'] = [{ at: profile.createdAt, type: 'added', detail: profile.source }];
  for (const c of consent)
    if (c.confirmedAt) events.push({ at: c.confirmedAt, type: 'confirmed', detail: c.source });
  for (const s of sends) if (s.sentAt) events.push({ at: s.sentAt, type: 'sent', detail: s.edition });
  if (profile.statusAt)
    events.push({ at: profile.statusAt, type: profile.status, detail: profile.statusReason });
  return events.sort((a, b) => a.at.localeCompare(b.at));
}

export const SEND_EXPORT_COLUMNS = `edition, state, attempts, transport, message_id AS "messageId", created_at AS "createdAt",
                  sent_at AS "sentAt", last_error AS "lastError"`;
export const SIGNUP_EXPORT_COLUMNS =
  'list, created_at AS "createdAt", expires_at AS "expiresAt", confirmed_at AS "confirmedAt"';

/** Everything the store holds about `email`, or undefined when it holds nothing. */
export function exportReader(db: DB, email: string, now: Date): ReaderExport | undefined {
  const addr = normalizeEmail(email);
  const profile = new SubscriberRepo(db).get(addr);
  const pendingSignups = db
    .prepare(`SELECT ${SIGNUP_EXPORT_COLUMNS} FROM signups WHERE email = ? ORDER BY id`)
    .all(addr) as ReaderExport['pendingSignups'];
  if (!profile && pendingSignups.length === 0) return undefined;
  const sends = profile
    ? (db
        .prepare(`SELECT ${SEND_EXPORT_COLUMNS} FROM sends WHERE subscriber_id = ? ORDER BY created_at`)
        .all(profile.id) as ReaderExport['sends'])
    : [];
  const consent = profile ? new ConsentRepo(db).for(profile.id) : [];
  const events = profile ? readerEvents(profile, consent, sends) : [];
  return { exportedAt: now.toISOString(), profile, consent, sends, events, pendingSignups };
}

export const SCRUB_SIGNUPS = `${SCRUB} WHERE email = ?`;
export const DELETE_OWN_MESSAGES = 'DELETE FROM inbound_messages WHERE lower(mail_from) = ?';

/**
 * The statements that erase reader `id` (its row becomes erased-<id>@invalid),
 * in order, with their arguments: the same on both stores.
 */
export function erasing(id: number, at: string): [string, unknown[]][] {
  const placeholder = `erased-${id}@invalid`;
  return [
    ['DELETE FROM consent WHERE subscriber_id = ?', [id]],
    // Issue 15: bounces, complaints and mailto requests quote the address: their raw
    // messages go, and the events keep only kind, time and edition (for counts).
    [
      'DELETE FROM inbound_messages WHERE id IN (SELECT inbound_id FROM mail_events WHERE subscriber_id = ? AND inbound_id IS NOT NULL)',
      [id],
    ],
    ['UPDATE mail_events SET detail = NULL WHERE subscriber_id = ?', [id]],
    [
      'UPDATE sends SET email = ?, last_error = NULL, response = NULL WHERE subscriber_id = ?',
      [placeholder, id],
    ],
    [
      `UPDATE subscribers SET email = ?, name = NULL, locale = NULL, topics = '[]', status = 'unsubscribed',
           status_reason = 'forgotten', source = NULL, updated_at = ?, status_at = ? WHERE id = ?`,
      [placeholder, at, at, id],
    ],
  ];
}

/**
 * Erase a reader: name, locale, topics, consent records, pending signups and
 * the address everywhere it is stored (the subscriber row and the send ledger)
 * are deleted or overwritten; a keyed hash goes on the suppression list so the
 * address is not mailed again unless its owner signs up and confirms afresh.
 *
 * The subscriber row itself stays as an anonymous placeholder
 * (erased-<id>@invalid, status unsubscribed): the send ledger refers to it, and
 * an edition's delivery counts must not change when one reader leaves.
 * Returns false when nothing was held.
 */
export function forgetReader(db: DB, keys: readonly Buffer[], email: string, now: Date): boolean {
  const addr = normalizeEmail(email);
  const subs = new SubscriberRepo(db);
  const profile = subs.get(addr);
  const at = now.toISOString();
  let held = false;
  db.transaction(() => {
    held = db.prepare(SCRUB_SIGNUPS).run(addr).changes > 0;
    if (profile) {
      held = true;
      for (const [sql, args] of erasing(profile.id, at)) db.prepare(sql).run(...args);
    }
    // Messages from the address itself (an auto-reply, a mailto request without a token) are not tied to an event's reader.
    if (db.prepare(DELETE_OWN_MESSAGES).run(addr).changes > 0) held = true;
    if (held) new SuppressionList(db, keys, () => now).add(addr, 'forgotten');
  })();
  return held;
}
