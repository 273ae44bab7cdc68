import type { EventKind } from '../../store/events.ts';
import { type SnsCertCache, signatureValid, snsMessage, snsUrl } from '../sns.ts';
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

// Amazon SES event notifications, delivered by SNS to an HTTPS subscription
// (raw message delivery off: the SNS envelope carries the signature). The SNS
// Message is SES's JSON: `notificationType` (identity notifications) or
// `eventType` (configuration-set event publishing), with `mail` naming the
// original message.

interface Recipient {
  emailAddress?: unknown;
  status?: unknown;
  diagnosticCode?: unknown;
  action?: unknown;
}

const IGNORED = new Set(['Send', 'Open', 'Click']);

/** The original Message-ID: commonHeaders, else the headers list SES includes when asked to. */
function originalMessageId(mail: Record<string, unknown>): string | undefined {
  const common = isObject(mail.commonHeaders) ? str(mail.commonHeaders.messageId) : undefined;
  if (common) return common;
  if (!Array.isArray(mail.headers)) return undefined;
  for (const h of mail.headers)
    if (isObject(h) && typeof h.name === 'string' && h.name.toLowerCase() === 'message-id')
      return str(h.value);
  return undefined;
}

/** One event per recipient; the SNS MessageId is the event's id (suffixed when there are several). */
export function sesEvents(snsMessageId: string, message: unknown): Parsed {
  if (!isObject(message)) throw new MalformedPayload('SES message is not a JSON object');
  const type = str(message.notificationType) ?? str(message.eventType);
  if (!type) throw new MalformedPayload('SES message without notificationType or eventType');
  if (IGNORED.has(type)) return { events: [], ignored: 1 };
  const mail = isObject(message.mail) ? message.mail : undefined;
  if (!mail) throw new MalformedPayload('SES message without mail');
  const messageId = originalMessageId(mail);
  const section = (k: string) => {
    const s = message[k];
    if (!isObject(s)) throw new MalformedPayload(`SES ${type} without ${k}`);
    return s;
  };
  const each = (rs: unknown, make: (r: Recipient, email: string) => Omit<ProviderEvent, 'externalId'>) => {
    if (!Array.isArray(rs) || rs.length === 0) throw new MalformedPayload(`SES ${type} without recipients`);
    return rs.map((r, i): ProviderEvent => {
      const rec: Recipient = isObject(r) ? r : { emailAddress: r };
      const email = str(rec.emailAddress);
      if (!email) throw new MalformedPayload(`SES ${type} recipient without an address`);
      return { ...make(rec, email), externalId: rs.length === 1 ? snsMessageId : `${snsMessageId}#${i}` };
    });
  };
  switch (type) {
    case 'Bounce': {
      const b = section('bounce');
      const kind: EventKind =
        b.bounceType === 'Permanent'
          ? 'bounce_hard'
          : b.bounceType === 'Transient'
            ? 'bounce_soft'
            : 'unknown';
      return {
        ignored: 0,
        events: each(b.bouncedRecipients, (r, email) => ({
          kind,
          status: str(r.status) ?? `${str(b.bounceType) ?? '?'}/${str(b.bounceSubType) ?? '?'}`,
          detail: str(r.diagnosticCode) ?? str(b.bounceSubType),
          occurredAt: when(b.timestamp),
          messageId,
          recipient: email,
        })),
      };
    }
    case 'Complaint': {
      const c = section('complaint');
      return {
        ignored: 0,
        events: each(c.complainedRecipients, (_r, email) => ({
          kind: 'complaint',
          status: str(c.complaintFeedbackType) ?? 'complaint',
          detail: str(c.complaintSubType) ?? str(c.userAgent),
          occurredAt: when(c.timestamp),
          messageId,
          recipient: email,
        })),
      };
    }
    case 'Delivery': {
      const d = section('delivery');
      return {
        ignored: 0,
        events: each(d.recipients, (_r, email) => ({
          kind: 'delivered',
          status: 'Delivery',
          detail: str(d.smtpResponse),
          occurredAt: when(d.timestamp),
          messageId,
          recipient: email,
        })),
      };
    }
    case 'DeliveryDelay': {
      const d = section('deliveryDelay');
      return {
        ignored: 0,
        events: each(d.delayedRecipients, (r, email) => ({
          kind: 'deferred',
          status: str(r.status) ?? str(d.delayType),
          detail: str(r.diagnosticCode) ?? str(d.delayType),
          occurredAt: when(d.timestamp),
          messageId,
          recipient: email,
        })),
      };
    }
    default: {
      // Reject, Rendering Failure, Subscription and anything newer: kept for a person, never acted on.
      const to = Array.isArray(mail.destination) ? str(mail.destination[0]) : undefined;
      return {
        ignored: 0,
        events: [
          {
            kind: 'unknown',
            status: type,
            detail: `SES ${type}`,
            externalId: snsMessageId,
            messageId,
            recipient: to,
          },
        ],
      };
    }
  }
}

export interface SesOptions {
  topicArns: readonly string[];
  maxAgeSeconds: number;
  hostPattern: RegExp;
  certs: SnsCertCache;
}

export function ses(o: SesOptions): Provider {
  const topics = new Set(o.topicArns);
  return {
    name: 'ses',
    async verify(req) {
      let body: unknown;
      try {
        body = JSON.parse(req.text);
      } catch {
        return refuse('body is not JSON');
      }
      const m = snsMessage(body);
      if (!m) return refuse('not an SNS message (Type and signed fields)');
      const header = req.headers.get('x-amz-sns-message-type');
      if (header && header !== m.Type) return refuse('x-amz-sns-message-type does not match the body');
      if (!topics.has(m.TopicArn))
        return refuse(`TopicArn ${m.TopicArn.slice(0, 200)} is not in webhooks.ses.topicArns`);
      if (m.SignatureVersion !== '1' && m.SignatureVersion !== '2')
        return refuse(`SignatureVersion ${m.SignatureVersion.slice(0, 8)} is not 1 or 2`);
      const at = Date.parse(m.Timestamp);
      if (!Number.isFinite(at) || Math.abs(req.now.getTime() - at) > o.maxAgeSeconds * 1000)
        return refuse(`Timestamp outside ±${o.maxAgeSeconds} s`);
      const url = snsUrl(m.SigningCertURL, o.hostPattern, 'SigningCertURL');
      if (typeof url === 'string') return refuse(url);
      // SNS certificate URLs are plain paths: no query to vary the cache key with.
      if (!url.pathname.endsWith('.pem') || url.search || url.hash)
        return refuse('SigningCertURL is not a plain .pem path');
      const cert = await o.certs.get(url);
      if (typeof cert === 'string') return refuse(cert);
      if (!signatureValid(m, cert)) return refuse('signature mismatch');
      if (m.SubscribeURL !== undefined && m.Type !== 'Notification') {
        const sub = snsUrl(m.SubscribeURL, o.hostPattern, 'SubscribeURL');
        if (typeof sub === 'string') return refuse(sub);
      }
      return OK;
    },
    parse(req): Parsed {
      const m = snsMessage(json(req.text));
      if (!m) throw new MalformedPayload('not an SNS message');
      if (m.Type === 'SubscriptionConfirmation')
        return { events: [], ignored: 0, subscribe: { url: m.SubscribeURL!, topicArn: m.TopicArn } };
      if (m.Type === 'UnsubscribeConfirmation')
        return { events: [], ignored: 0, unsubscribed: { topicArn: m.TopicArn } };
      return sesEvents(m.MessageId, json(m.Message));
    },
  };
}
