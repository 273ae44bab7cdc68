import { createHash } from 'node:crypto';
import { domainOfAddress } from '../config/identity.ts';
import type { Config } from '../config/schema.ts';
import { verifyToken } from '../delivery/tokens.ts';
import { BroadsheetError } from '../errors/index.ts';
import type { Logger } from '../logger.ts';
import type { Backend } from '../store/backend.ts';
import type { DB } from '../store/db.ts';
import {
  DEFAULT_POLICY,
  type EventAction,
  type EventKind,
  type MailEventStore,
  mailEventsFor,
} from '../store/events.ts';
import {
  type Classification,
  type Classified,
  classify,
  type InboundMeta,
  type Lookups,
} from './classify.ts';
import { type InboundStore, inboundStoreFor } from './store.ts';

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
  /** The SQLite store (tests); or give `backend`. */
  db?: DB;
  /** The store `inbound` opened: SQLite, or PostgreSQL shared with other hosts (issue 17). */
  backend?: Backend;
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

/** The deps' store: `backend`, else the SQLite `db`. */
export function backendOfDeps(deps: Pick<InboundDeps, 'db' | 'backend'>): Backend {
  if (deps.backend) return deps.backend;
  if (!deps.db) throw new Error('InboundDeps needs db or backend');
  return { kind: 'sqlite', db: deps.db, file: deps.db.name };
}

/** A lookup that failed in the store (not in the message): the sender is asked to retry. */
class LookupFailed extends Error {}

const guarded = async <T>(fn: () => T | Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (err) {
    throw new LookupFailed((err as Error).message, { cause: err });
  }
};

function lookups(deps: InboundDeps, store: InboundStore, events: MailEventStore): Lookups {
  const { keys } = deps;
  return {
    verp: (token) => guarded(() => store.verp(keys, token)),
    messageId: (id) => guarded(() => events.sendByMessageId(id)),
    unsubscribe: (token) => guarded(() => readerOfToken(token)),
    unsubscribeAddress: unsubscribeMailbox(deps.config),
  };
  async function readerOfToken(token: string) {
    const t = verifyToken(keys, token, 'u', deps.now().getTime());
    if (!t) return undefined;
    const id = await store.readerId(t.v === 2 ? { id: t.id } : { email: t.email });
    return id === undefined ? undefined : { subscriberId: id, edition: await store.latestOf(id, t.list) };
  }
}

export async function processInbound(
  deps: InboundDeps,
  raw: Buffer,
  meta: InboundMeta,
): Promise<InboundOutcome> {
  const { logger } = deps;
  const backend = backendOfDeps(deps);
  const store = inboundStoreFor(backend);
  const received = deps.now();
  let inboundId: number;
  try {
    inboundId = await store.insertRaw(received, meta, raw);
  } catch (err) {
    throw new BroadsheetError('INBOUND_STORE_FAILED', { detail: (err as Error).message }, { cause: err });
  }

  const inbound = deps.config.inbound as
    | { softBounceLimit?: number; softBounceWindowDays?: number }
    | undefined;
  const events = mailEventsFor(
    backend,
    deps.keys,
    {
      softBounceLimit: inbound?.softBounceLimit ?? DEFAULT_POLICY.softBounceLimit,
      softBounceWindowDays: inbound?.softBounceWindowDays ?? DEFAULT_POLICY.softBounceWindowDays,
    },
    deps.now,
  );

  let c: Classification;
  try {
    c = await classify(raw, meta, lookups(deps, store, events));
  } catch (err) {
    if (err instanceof LookupFailed)
      throw new BroadsheetError('INBOUND_STORE_FAILED', { detail: err.message }, { cause: err });
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
      if (await store.softSeen(subscriberId, edition)) kind = 'deferred';
    }
    const r = await events.record({
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
      inboundId = await store.dropDuplicate(inboundId, meta.source, externalId);
    } else {
      await store.setClassified(inboundId, c.classified);
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
