import { createHash } from 'node:crypto';
import { domainOfAddress } from '../config/identity.ts';
import type { Config } from '../config/schema.ts';
import { verifyToken } from '../delivery/tokens.ts';
import { resolveVerp } from '../delivery/verp.ts';
import { BroadsheetError } from '../errors/index.ts';
import type { Logger } from '../logger.ts';
import type { DB } from '../store/db.ts';
import { DEFAULT_POLICY, type EventAction, type EventKind, MailEvents } from '../store/events.ts';
import { normalizeEmail } from '../store/subscribers.ts';
import {
  type Classification,
  type Classified,
  classify,
  type InboundMeta,
  type Lookups,
} from './classify.ts';

// One inbound message (from `broadsheet inbound`'s SMTP/LMTP listener or the
// IMAP poller, src/inbound/server.ts and imap.ts): stored raw FIRST, so
// nothing is lost if reading it fails, then classified (classify.ts) and
// recorded through MailEvents.record, which applies the suppression policy.
//
// Guarantees:
// - Only a store failure throws (INBOUND_STORE_FAILED: the listener answers
//   4xx and the sender retries). A message that cannot be read is 'unknown'.
// - Idempotent: the event's external id is the report's Message-ID (else the
//   caller's id, e.g. imap:<uidvalidity>:<uid>, else a hash of the raw
//   message): the same report in two IMAP messages or two SMTP deliveries
//   counts once, and its second copy changes nothing — not even the
//   inbound_messages table (the copy is dropped).
// - Soft bounces count once per message: a second soft report about the same
//   (reader, edition) — a delay warning followed by the final 4.x.x failure —
//   is recorded as 'deferred', so one full mailbox is not three strikes.

export interface InboundDeps {
  db: DB;
  keys: Buffer[];
  config: Config;
  now: () => Date;
  logger: Logger;
}

export interface InboundOutcome {
  inboundId: number;
  classified: Classified;
  events: { kind: EventKind; subscriberId: number | null; action: EventAction }[];
}

/** The List-Unsubscribe mailbox, as makeComposer in send.ts sets it. */
export function unsubscribeMailbox(config: Config): string {
  return (
    config.delivery.unsubscribeMailto ??
    `unsubscribe@${config.delivery.domain ?? domainOfAddress(config.email.from) ?? 'localhost.localdomain'}`
  );
}

function lookups(deps: InboundDeps, events: MailEvents): Lookups {
  const { db, keys } = deps;
  const latestOf = (subscriberId: number, list: string) =>
    (
      db
        .prepare(
          "SELECT edition FROM sends WHERE subscriber_id = ? AND edition LIKE ? ESCAPE '\\' ORDER BY created_at DESC LIMIT 1",
        )
        .get(subscriberId, `${list.replace(/[\\%_]/g, '\\$&')}-%`) as { edition: string } | undefined
    )?.edition ?? null;
  return {
    verp: (token) => resolveVerp(db, keys, token),
    messageId: (id) => events.sendByMessageId(id),
    unsubscribe: (token) => {
      const t = verifyToken(keys, token, 'u', deps.now().getTime());
      if (!t) return undefined;
      const row = (
        t.v === 2
          ? db.prepare('SELECT id FROM subscribers WHERE id = ?').get(t.id)
          : db.prepare('SELECT id FROM subscribers WHERE email = ?').get(normalizeEmail(t.email))
      ) as { id: number } | undefined;
      return row ? { subscriberId: row.id, edition: latestOf(row.id, t.list) } : undefined;
    },
    unsubscribeAddress: unsubscribeMailbox(deps.config),
  };
}

const addressList = (a: string[]) => a.join(', ').slice(0, 2000);

export async function processInbound(
  deps: InboundDeps,
  raw: Buffer,
  meta: InboundMeta,
): Promise<InboundOutcome> {
  const { db, logger } = deps;
  const received = deps.now();
  let inboundId: number;
  try {
    inboundId = Number(
      db
        .prepare(
          `INSERT INTO inbound_messages (received_at, source, mail_from, rcpt_to, size, classified, raw)
           VALUES (?, ?, ?, ?, ?, 'pending', ?)`,
        )
        .run(
          received.toISOString(),
          meta.source,
          meta.mailFrom ?? null,
          addressList(meta.rcptTo),
          raw.length,
          raw,
        ).lastInsertRowid,
    );
  } catch (err) {
    throw new BroadsheetError('INBOUND_STORE_FAILED', { detail: (err as Error).message }, { cause: err });
  }

  const inbound = deps.config.inbound as
    | { softBounceLimit?: number; softBounceWindowDays?: number }
    | undefined;
  const events = new MailEvents(
    db,
    deps.keys,
    {
      softBounceLimit: inbound?.softBounceLimit ?? DEFAULT_POLICY.softBounceLimit,
      softBounceWindowDays: inbound?.softBounceWindowDays ?? DEFAULT_POLICY.softBounceWindowDays,
    },
    deps.now,
  );

  let c: Classification;
  try {
    c = await classify(raw, meta, lookups(deps, events));
  } catch (err) {
    // Never lose a message to a parser bug: it stays stored as unknown for a human.
    logger.warn(
      { inboundId, err: (err as Error).message },
      'inbound message could not be read; kept as unknown',
    );
    c = {
      classified: 'unknown',
      finding: { kind: 'unknown', detail: `unreadable: ${(err as Error).message}` },
    };
  }

  const f = c.finding;
  const externalId =
    c.messageId ?? meta.externalId ?? `sha256:${createHash('sha256').update(raw).digest('hex').slice(0, 40)}`;
  let kind = f.kind;
  const subscriberId = f.reader?.subscriberId ?? null;
  const edition = f.reader?.edition ?? null;
  try {
    if (kind === 'bounce_soft' && subscriberId !== null && edition !== null) {
      const seen = db
        .prepare(
          "SELECT 1 FROM mail_events WHERE subscriber_id = ? AND edition = ? AND kind = 'bounce_soft' LIMIT 1",
        )
        .get(subscriberId, edition);
      if (seen) kind = 'deferred';
    }
    const r = events.record({
      kind,
      source: meta.source,
      subscriberId,
      edition,
      status: f.status ?? null,
      detail: f.detail ?? null,
      externalId,
      inboundId,
    });
    if (r.action === 'duplicate') {
      // The same report again: keep the first copy only.
      const first = db
        .prepare('SELECT inbound_id AS id FROM mail_events WHERE source = ? AND external_id = ?')
        .get(meta.source, externalId) as { id: number | null } | undefined;
      db.prepare('DELETE FROM inbound_messages WHERE id = ?').run(inboundId);
      inboundId = first?.id ?? inboundId;
    } else {
      db.prepare('UPDATE inbound_messages SET classified = ? WHERE id = ?').run(c.classified, inboundId);
    }
    // debug: the listener and the poller log each message's outcome at info.
    logger.debug(
      {
        inboundId,
        classified: c.classified,
        kind,
        subscriber: subscriberId,
        edition,
        action: r.action,
        via: f.reader?.via,
      },
      `inbound ${c.classified}: ${kind} → ${r.action}`,
    );
    return { inboundId, classified: c.classified, events: [{ kind, subscriberId, action: r.action }] };
  } catch (err) {
    throw new BroadsheetError('INBOUND_STORE_FAILED', { detail: (err as Error).message }, { cause: err });
  }
}
