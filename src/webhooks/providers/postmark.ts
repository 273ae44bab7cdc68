import { createHash, timingSafeEqual } from 'node:crypto';
import type { EventKind } from '../../store/events.ts';
import {
  isObject,
  json,
  MalformedPayload,
  OK,
  type Parsed,
  type Provider,
  type ProviderEvent,
  refuse,
  str,
  when,
} from '../types.ts';

// Postmark webhooks: one JSON record per call, by RecordType. Postmark signs
// nothing; it supports HTTP Basic credentials in the webhook URL
// (https://user:password@host/hooks/postmark), which are required here and
// compared in constant time.

/** Bounce types (Postmark's `Type`) that mean the address will never take mail. */
const HARD = new Set(['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated']);
/** Temporary failures: counted, N of them within the window suppress (store/events.ts). */
const SOFT = new Set(['SoftBounce', 'Transient', 'DnsError', 'Blocked', 'DMARCPolicy', 'Undeliverable']);

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** The original Message-ID, when the send put one in Postmark's Metadata. */
function metadataMessageId(m: unknown): string | undefined {
  if (!isObject(m)) return undefined;
  for (const [k, v] of Object.entries(m))
    if (/^(message[-_]?id|broadsheet[-_]message[-_]id)$/i.test(k) && typeof v === 'string') return v;
  return undefined;
}

/**
 * Postmark's bounce IDs are 64-bit and JSON.parse rounds those past 2^53, so
 * two bounces could share an id (and the second be ignored as a repeat): the
 * digits are read from the raw text instead, picking the ID that parses to
 * the value seen.
 */
function exactId(text: string, parsed: unknown): string {
  if (typeof parsed === 'number' && !Number.isSafeInteger(parsed))
    for (const m of text.matchAll(/"ID"\s*:\s*(\d+)/g)) if (Number(m[1]) === parsed) return m[1]!;
  return String(parsed);
}

export function postmark(o: { auth: string }): Provider {
  const expected = digest(o.auth);
  return {
    name: 'postmark',
    verify(req) {
      const m = /^basic\s+([A-Za-z0-9+/=]{1,1024})\s*$/i.exec(req.headers.get('authorization') ?? '');
      if (!m) return refuse('no HTTP Basic credentials');
      const got = Buffer.from(m[1]!, 'base64').toString('utf8');
      if (!timingSafeEqual(digest(got), expected)) return refuse('wrong HTTP Basic credentials');
      return OK;
    },
    parse(req): Parsed {
      const r = json(req.text);
      if (!isObject(r) || !str(r.RecordType)) throw new MalformedPayload('no RecordType');
      const type = r.RecordType as string;
      const messageId = metadataMessageId(r.Metadata);
      const base = { messageId, recipient: str(r.Email) ?? str(r.Recipient) };
      const one = (e: Omit<ProviderEvent, 'messageId' | 'recipient'>): Parsed => ({
        events: [{ ...base, ...e }],
        ignored: 0,
      });
      switch (type) {
        case 'Bounce': {
          const t = str(r.Type);
          if (r.ID === undefined || !t) throw new MalformedPayload('Bounce without ID or Type');
          const kind: EventKind = HARD.has(t)
            ? 'bounce_hard'
            : SOFT.has(t)
              ? 'bounce_soft'
              : t === 'SpamComplaint'
                ? 'complaint'
                : t === 'Unsubscribe'
                  ? 'unsubscribe'
                  : 'unknown';
          return one({
            kind,
            status: t,
            detail: str(r.Description) ?? str(r.Details) ?? str(r.Name),
            externalId: `bounce:${exactId(req.text, r.ID)}`,
            occurredAt: when(r.BouncedAt),
          });
        }
        case 'SpamComplaint':
          if (r.ID === undefined) throw new MalformedPayload('SpamComplaint without ID');
          return one({
            kind: 'complaint',
            status: str(r.Type) ?? 'SpamComplaint',
            detail: str(r.Description) ?? str(r.Details),
            externalId: `complaint:${exactId(req.text, r.ID)}`,
            occurredAt: when(r.BouncedAt),
          });
        case 'Delivery':
          if (!str(r.MessageID)) throw new MalformedPayload('Delivery without MessageID');
          return one({
            kind: 'delivered',
            status: 'Delivery',
            detail: str(r.Details),
            externalId: `delivery:${r.MessageID}:${base.recipient ?? ''}`,
            occurredAt: when(r.DeliveredAt),
          });
        case 'SubscriptionChange': {
          // Only a reader's own unsubscribe acts here; Postmark's suppressions for
          // bounces and complaints arrive as their own Bounce/SpamComplaint records.
          if (r.SuppressSending !== true || r.SuppressionReason !== 'ManualSuppression')
            return { events: [], ignored: 1 };
          return one({
            kind: 'unsubscribe',
            status: 'ManualSuppression',
            detail: str(r.Origin) ? `via ${r.Origin}` : undefined,
            externalId: `subscription:${str(r.MessageID) ?? ''}:${base.recipient ?? ''}:${str(r.ChangedAt) ?? ''}`,
            occurredAt: when(r.ChangedAt),
          });
        }
        case 'Open':
        case 'Click':
          return { events: [], ignored: 1 };
        default:
          return { events: [], ignored: 1 };
      }
    },
  };
}
