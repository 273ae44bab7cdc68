import { simpleParser } from 'mailparser';
import { tokenOfAddress } from '../delivery/verp.ts';
import type { Awaitable } from '../store/backend.ts';
import type { EventKind } from '../store/events.ts';
import { isJmrpMessage, readFeedbackReport } from './arf.ts';
import { BOUNCE_SENDER, BOUNCE_SUBJECT, readDeliveryStatus, readPlainBounce } from './dsn.ts';
import { isAddressedTo, unsubscribeTokenIn } from './mailto.ts';
import { findPart, type MimePart, parseMime, returnedMessage } from './mime.ts';

// What an inbound message is, and whom it is about. Pure apart from the
// lookups it is given (the store), so the fixtures test it directly.
//
// Order: an ARF report, then a DSN report (both by their report part, wherever
// they were sent), then a request to the unsubscribe mailbox, then an
// auto-reply (never acted on), then a plain-text bounce, else unknown.
//
// The reader comes only from something we issued and can check:
//   1. a VERP token (the RCPT TO the report came to; else the envelope sender
//      the report quotes: X-Postfix-Sender, Original-Mail-From, the returned
//      message's Return-Path) — authenticated, and must name a real send;
//   2. the returned message's Message-ID, looked up in the send ledger;
//   3. for mailto requests, the unsubscribe token.
// Never an address or a name in free text.

export type Classified = 'dsn' | 'arf' | 'unsubscribe' | 'unknown';

export interface Reader {
  subscriberId: number;
  edition: string | null;
  via: 'verp' | 'message-id' | 'token';
}

export interface Lookups {
  /** A genuine VERP token's real send. */
  verp(token: string): Awaitable<{ edition: string; subscriberId: number } | undefined>;
  /** The send with this Message-ID. */
  messageId(id: string): Awaitable<{ edition: string; subscriberId: number } | undefined>;
  /** A valid unsubscribe token's reader. */
  unsubscribe(token: string): Awaitable<{ subscriberId: number; edition: string | null } | undefined>;
  /** The List-Unsubscribe mailto mailbox. */
  unsubscribeAddress: string;
}

export interface Finding {
  kind: EventKind;
  status?: string;
  detail?: string;
  reader?: Reader;
}

export interface Classification {
  classified: Classified;
  finding: Finding;
  /** The report's own Message-ID (idempotency), when it has one. */
  messageId?: string;
}

export interface InboundMeta {
  source: 'inbound' | 'imap';
  mailFrom?: string;
  rcptTo: string[];
  externalId?: string;
}

const MESSAGE_ID = /<[^<>\s]{1,250}@[^<>\s]{1,250}>/;

const AUTO_REPLY_SUBJECT =
  /(out of (the )?office|automatic reply|auto(matic)?[- ]?(reply|response|antwort)|autoreply|vacation|abwesenheit|absence|réponse automatique|respuesta automática|自動回覆|自动回复|自動応答)/i;

function isAutoReply(top: MimePart, subject: string): boolean {
  const h = top.headers;
  if (h.get('x-autoreply') || h.get('x-autorespond') || h.get('x-auto-response-suppress')) return true;
  if (/^auto_?reply$/i.test(h.get('precedence')?.trim() ?? '')) return true;
  if (/^auto-replied/i.test(h.get('auto-submitted')?.trim() ?? '') && AUTO_REPLY_SUBJECT.test(subject))
    return true;
  return AUTO_REPLY_SUBJECT.test(subject) || /^(auto|autosvar|automatisch):/i.test(subject);
}

/** The first reader that a VERP address or a Message-ID names. */
async function attribute(
  lookups: Lookups,
  addresses: (string | undefined)[],
  ids: (string | undefined)[],
): Promise<Reader | undefined> {
  for (const a of addresses) {
    const token = a ? tokenOfAddress(a) : undefined;
    const hit = token ? await lookups.verp(token) : undefined;
    if (hit) return { ...hit, via: 'verp' };
  }
  for (const raw of ids) {
    const id = raw ? MESSAGE_ID.exec(raw)?.[0] : undefined;
    const hit = id ? await lookups.messageId(id) : undefined;
    if (hit) return { ...hit, via: 'message-id' };
  }
  return undefined;
}

/** Addresses a report was delivered to: the envelope first, then the headers MTAs add. */
function deliveredTo(top: MimePart, meta: InboundMeta): string[] {
  const h = top.headers;
  return [
    ...meta.rcptTo,
    ...h.all('delivered-to'),
    ...h.all('x-original-to'),
    ...h.all('envelope-to'),
    ...(h.get('to') ?? '').split(','),
  ].map((a) => /<([^>]*)>/.exec(a)?.[1] ?? a.trim());
}

const returnedIds = (m: MimePart | undefined) => (m ? [m.headers.get('message-id')] : []);
const returnedPath = (m: MimePart | undefined) => (m ? [m.headers.get('return-path')] : []);

export async function classify(raw: Buffer, meta: InboundMeta, lookups: Lookups): Promise<Classification> {
  const top = parseMime(raw);
  const messageId = MESSAGE_ID.exec(top.headers.get('message-id') ?? '')?.[0];
  let subject = '';
  let text = '';
  let fromLocal = '';
  try {
    const parsed = await simpleParser(raw, {
      skipHtmlToText: false,
      skipTextLinks: true,
      skipImageLinks: true,
    });
    subject = parsed.subject ?? '';
    text = parsed.text ?? '';
    fromLocal = (parsed.from?.value[0]?.address ?? '').split('@')[0] ?? '';
  } catch {
    // mailparser could not read it: fall back on the raw header and body
    subject = top.headers.get('subject') ?? '';
    text = top.body.toString('utf8');
  }
  const to = deliveredTo(top, meta);
  const returned = returnedMessage(top);
  const out = (classified: Classified, finding: Finding): Classification => ({
    classified,
    finding,
    messageId,
  });

  // ARF: report-type=feedback-report or a message/feedback-report part; also JMRP's older attachment-only shape.
  const fbPart = findPart(top, 'message/feedback-report');
  const reportType = top.type === 'multipart/report' ? top.params['report-type']?.toLowerCase() : undefined;
  if (fbPart || reportType === 'feedback-report' || isJmrpMessage(returned)) {
    const arf = readFeedbackReport(fbPart);
    const reader = await attribute(
      lookups,
      [...to, arf.originalMailFrom, ...returnedPath(returned)],
      returnedIds(returned),
    );
    return out('arf', {
      kind: arf.kind,
      status: arf.feedbackType,
      detail: `feedback report: ${arf.feedbackType}${arf.userAgent ? ` (${arf.userAgent})` : ''}`,
      reader,
    });
  }

  // DSN (RFC 3464; RFC 6533's message/global-delivery-status too).
  const dsPart = findPart(top, 'message/delivery-status') ?? findPart(top, 'message/global-delivery-status');
  if (dsPart || reportType === 'delivery-status') {
    const r = dsPart ? readDeliveryStatus(dsPart) : readPlainBounce(text);
    const reader = await attribute(
      lookups,
      [...to, r.envelopeSender, ...returnedPath(returned)],
      returnedIds(returned),
    );
    return out('dsn', { kind: r.kind, status: r.status, detail: r.detail, reader });
  }

  // A request to the List-Unsubscribe mailbox.
  if (isAddressedTo(to, lookups.unsubscribeAddress)) {
    const token = unsubscribeTokenIn(subject, text);
    const hit = token ? await lookups.unsubscribe(token) : undefined;
    if (hit)
      return out('unsubscribe', {
        kind: 'unsubscribe',
        status: 'mailto',
        detail: 'mailto unsubscribe',
        reader: { ...hit, via: 'token' },
      });
    return out('unknown', {
      kind: 'unknown',
      status: 'mailto-no-token',
      detail: token
        ? 'mailto unsubscribe with an invalid or expired token: not acted on'
        : 'mail to the unsubscribe address without a token: not acted on (From can be forged)',
    });
  }

  // Out-of-office and other auto-replies to the bounce address: kept, never acted on.
  const bounceLike = BOUNCE_SENDER.test(fromLocal) || BOUNCE_SUBJECT.test(subject);
  if (!bounceLike && isAutoReply(top, subject))
    return out('unknown', {
      kind: 'unknown',
      status: 'auto-reply',
      detail: `auto-reply: ${subject.slice(0, 120)}`,
    });

  // A bounce without a report part (qmail, older Exim, Yahoo's "Failure Notice").
  if (bounceLike && !AUTO_REPLY_SUBJECT.test(subject)) {
    const r = readPlainBounce(text);
    // The returned copy's Message-ID: an attached one, else the quoted header line in the text.
    const quoted = /^\s*message-id:\s*(<[^<>\s]+>)/im.exec(text)?.[1];
    const reader = await attribute(
      lookups,
      [...to, ...returnedPath(returned)],
      [...returnedIds(returned), quoted],
    );
    return out('dsn', { kind: r.kind, status: r.status, detail: r.detail, reader });
  }

  return out('unknown', { kind: 'unknown', detail: `not a report: ${subject.slice(0, 120)}` });
}
