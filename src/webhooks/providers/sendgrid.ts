import { createPublicKey, type KeyObject, verify as verifySignature } from 'node:crypto';
import type { EventKind } from '../../store/events.ts';
import { freshSeconds } from '../freshness.ts';
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
} from '../types.ts';

// SendGrid's Signed Event Webhook: a JSON array of events; the headers carry an
// ECDSA P-256 / SHA-256 signature (base64 DER) over timestamp + raw body, made
// with the key whose public half SendGrid shows (base64 DER SPKI).

export const SIG_HEADER = 'x-twilio-email-event-webhook-signature';
export const TS_HEADER = 'x-twilio-email-event-webhook-timestamp';

/** The verification key as SendGrid shows it (base64 DER) or as PEM; throws when it is neither. */
export function sendgridKey(text: string): KeyObject {
  const key = text.includes('-----BEGIN')
    ? createPublicKey(text)
    : createPublicKey({ key: Buffer.from(text.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ec') throw new Error(`not an EC key (${key.asymmetricKeyType})`);
  return key;
}

/** Why SendGrid dropped a message (its `reason`), when that says something about the reader. */
function droppedKind(reason: string): EventKind {
  if (/bounced address|invalid/i.test(reason)) return 'bounce_hard';
  if (/unsubscribed address/i.test(reason)) return 'unsubscribe';
  if (/spam reporting address/i.test(reason)) return 'complaint';
  return 'unknown';
}

const IGNORED = new Set(['processed', 'open', 'click', 'group_resubscribe']);

export function sendgrid(o: { publicKey: KeyObject; maxAgeSeconds: number }): Provider {
  return {
    name: 'sendgrid',
    verify(req) {
      const sig = req.headers.get(SIG_HEADER);
      const ts = req.headers.get(TS_HEADER);
      if (!sig || !ts) return refuse('no signature or timestamp header');
      if (!/^[A-Za-z0-9+/=]{16,256}$/.test(sig)) return refuse('signature is not base64');
      let good = false;
      try {
        good = verifySignature(
          'sha256',
          Buffer.concat([Buffer.from(ts, 'utf8'), req.body]),
          o.publicKey,
          Buffer.from(sig, 'base64'),
        );
      } catch {
        good = false;
      }
      if (!good) return refuse('signature mismatch');
      if (!freshSeconds(ts, req.now, o.maxAgeSeconds))
        return refuse(`timestamp outside ±${o.maxAgeSeconds} s`);
      return OK;
    },
    parse(req): Parsed {
      const list = json(req.text);
      if (!Array.isArray(list)) throw new MalformedPayload('body is not a JSON array of events');
      const out: Parsed = { events: [], ignored: 0 };
      for (const ev of list) {
        if (!isObject(ev) || !str(ev.event)) throw new MalformedPayload('an event without `event`');
        const name = ev.event as string;
        if (IGNORED.has(name)) {
          out.ignored++;
          continue;
        }
        const id = str(ev.sg_event_id);
        if (!id) throw new MalformedPayload(`a ${name} event without sg_event_id`);
        const reason = str(ev.reason) ?? str(ev.response);
        let kind: EventKind;
        switch (name) {
          case 'bounce':
            kind = ev.type === 'blocked' ? 'bounce_soft' : 'bounce_hard';
            break;
          case 'dropped':
            kind = droppedKind(reason ?? '');
            break;
          case 'deferred':
            kind = 'deferred';
            break;
          case 'delivered':
            kind = 'delivered';
            break;
          case 'spamreport':
            kind = 'complaint';
            break;
          case 'unsubscribe':
          case 'group_unsubscribe':
            kind = 'unsubscribe';
            break;
          default:
            kind = 'unknown';
        }
        const e: ProviderEvent = {
          kind,
          status: str(ev.status) ?? (name === 'bounce' ? (str(ev.type) ?? name) : name),
          detail: reason,
          externalId: id,
          occurredAt: typeof ev.timestamp === 'number' ? new Date(ev.timestamp * 1000) : undefined,
          messageId: str(ev['smtp-id']),
          recipient: str(ev.email),
        };
        out.events.push(e);
      }
      return out;
    },
  };
}
