import type { EventKind } from '../store/events.ts';
import { type MimePart, parseFieldGroups } from './mime.ts';

// Delivery status notifications. RFC 3464 reports (multipart/report;
// report-type=delivery-status) are read field by field; the plain-text bounces
// some MTAs still send (qmail, older Exim, Yahoo's "Failure Notice") are read
// only for their SMTP codes — the reader is never taken from their free text.
//
// What a report means (docs/inbound-parsing.md):
//   Action failed + Status 5.x.x        bounce_hard (suppressed at once)
//   Action failed + Status 4.x.x        bounce_soft (a temporary cause that
//                                       outlived the sender's queue: counts)
//   Action delayed (any status)         bounce_soft — but once per message:
//                                       process.ts records later soft news
//                                       about the same send as 'deferred'
//   Action delivered/relayed/expanded   delivered
// Without an Action the Status class decides (2 delivered, 4 soft, 5 hard).

export interface DsnRecipient {
  action?: string;
  status?: string;
  diagnostic?: string;
}

export interface DsnReading {
  kind: EventKind;
  status?: string;
  detail?: string;
  /** The per-message fields (Reporting-MTA, X-Postfix-Sender, Original-Envelope-Id…). */
  envelopeSender?: string;
}

const STATUS = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;

const oneLine = (s: string | undefined, max = 300) =>
  s ? s.replace(/\s+/g, ' ').trim().slice(0, max) || undefined : undefined;

/** A field value `type; value` (rfc822; a@b, smtp; 550 …) without its type. */
const typed = (v: string | undefined) => v?.replace(/^[^;]*;\s*/, '').trim();

export function kindOf(r: DsnRecipient): EventKind {
  const action = r.action?.toLowerCase().trim();
  const cls = (r.status && STATUS.exec(r.status)?.[1]) ?? STATUS.exec(r.diagnostic ?? '')?.[1];
  if (action === 'delivered' || action === 'relayed' || action === 'expanded') return 'delivered';
  if (action === 'delayed') return 'bounce_soft';
  if (action === 'failed') return cls === '5' ? 'bounce_hard' : 'bounce_soft';
  if (cls === '2') return 'delivered';
  if (cls === '5') return 'bounce_hard';
  if (cls === '4') return 'bounce_soft';
  return 'unknown';
}

const SEVERITY: Partial<Record<EventKind, number>> = {
  bounce_hard: 4,
  bounce_soft: 3,
  delivered: 1,
  unknown: 0,
};

/**
 * The reading of a message/delivery-status part: the most severe recipient
 * (a digest has exactly one recipient per message, so there is one in practice).
 */
export function readDeliveryStatus(part: MimePart): DsnReading {
  const [perMessage, ...blocks] = parseFieldGroups(part.body.toString('utf8'));
  let best: (DsnReading & { rank: number }) | undefined;
  for (const b of blocks) {
    const r: DsnRecipient = {
      action: b.get('action'),
      status: b.get('status'),
      diagnostic: typed(b.get('diagnostic-code')),
    };
    const kind = kindOf(r);
    const rank = SEVERITY[kind] ?? 0;
    if (!best || rank > best.rank)
      best = {
        kind,
        rank,
        status: STATUS.exec(r.status ?? '')?.[0] ?? STATUS.exec(r.diagnostic ?? '')?.[0],
        detail: oneLine([r.action, r.diagnostic ?? b.get('status')].filter(Boolean).join(': ') || undefined),
      };
  }
  const envelopeSender = typed(perMessage?.get('x-postfix-sender') ?? perMessage?.get('original-mail-from'));
  if (!best) return { kind: 'unknown', detail: 'delivery-status report without a recipient', envelopeSender };
  const { rank: _rank, ...reading } = best;
  return { ...reading, envelopeSender };
}

/**
 * A plain-text bounce (no report part): hard only when a permanent code is
 * present (an enhanced 5.x.x status, or a 55x reply), otherwise soft.
 */
export function readPlainBounce(text: string): DsnReading {
  const enhanced = /\b[45]\.\d{1,3}\.\d{1,3}\b/.exec(text)?.[0];
  const reply = /(?:^|[\s:(])(5[05]\d|4[25]\d)(?=[\s:-])/m.exec(text)?.[1];
  const hard = enhanced ? enhanced.startsWith('5') : reply?.startsWith('5');
  // The line with the code, for people; else the first non-empty line.
  const code = enhanced ?? reply;
  const line = code ? text.split(/\r?\n/).find((l) => l.includes(code)) : undefined;
  return {
    kind: hard ? 'bounce_hard' : 'bounce_soft',
    status: enhanced ?? (reply ? `${reply}` : undefined),
    detail: oneLine(line ?? text.split(/\r?\n/).find((l) => l.trim()), 300),
  };
}

/** Subjects and senders of bounces that come without a report part. */
export const BOUNCE_SUBJECT =
  /(undeliver|undelivered|delivery status notification \(failure\)|delivery (status notification|failure|has failed|incomplete)|failure notice|returned mail|mail delivery failed|could not be delivered|non-?delivery|unzustellbar|non remis|no se puede entregar|退信|未能送达|無法傳遞|无法传递)/i;
export const BOUNCE_SENDER = /^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)$/i;
