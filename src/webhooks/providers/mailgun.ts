import { createHmac, timingSafeEqual } from 'node:crypto';
import type { EventKind } from '../../store/events.ts';
import { freshSeconds, SeenTokens } from '../freshness.ts';
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

// Mailgun webhooks (JSON): { signature: { timestamp, token, signature }, "event-data": {…} }.
// The signature is HMAC-SHA256(signing key, timestamp + token), hex. A call
// whose timestamp is stale or whose token was already used is refused.

const KINDS: Record<string, EventKind | 'failed' | undefined> = {
  delivered: 'delivered',
  failed: 'failed',
  complained: 'complaint',
  unsubscribed: 'unsubscribe',
  rejected: 'unknown',
};
/** Our own click and open tracking counts those; Mailgun's are not recorded. */
const IGNORED = new Set(['opened', 'clicked', 'accepted', 'stored', 'list_member_uploaded']);

function signatureOf(body: unknown) {
  if (!isObject(body) || !isObject(body.signature)) return undefined;
  const { timestamp, token, signature } = body.signature;
  if (typeof timestamp !== 'string' || typeof token !== 'string' || typeof signature !== 'string')
    return undefined;
  return { timestamp, token, signature };
}

export function mailgun(o: { signingKey: string; maxAgeSeconds: number }): Provider {
  const seen = new SeenTokens(o.maxAgeSeconds * 2000);
  return {
    name: 'mailgun',
    verify(req) {
      let body: unknown;
      try {
        body = JSON.parse(req.text);
      } catch {
        return refuse('body is not JSON (no signature to check)');
      }
      const sig = signatureOf(body);
      if (!sig) return refuse('no signature block');
      if (!/^[0-9a-f]{64}$/i.test(sig.signature)) return refuse('signature is not a hex SHA-256 HMAC');
      const want = createHmac('sha256', o.signingKey)
        .update(sig.timestamp + sig.token)
        .digest();
      if (!timingSafeEqual(want, Buffer.from(sig.signature, 'hex'))) return refuse('signature mismatch');
      if (!freshSeconds(sig.timestamp, req.now, o.maxAgeSeconds))
        return refuse(`timestamp outside ±${o.maxAgeSeconds} s`);
      if (!seen.first(sig.token, req.now.getTime())) return refuse('token already used (replay)');
      return OK;
    },
    parse(req): Parsed {
      const body = json(req.text);
      const d = isObject(body) ? body['event-data'] : undefined;
      if (!isObject(d)) throw new MalformedPayload('no event-data');
      const name = str(d.event);
      const id = str(d.id);
      if (!name || !id) throw new MalformedPayload('event-data without event or id');
      if (IGNORED.has(name)) return { events: [], ignored: 1 };
      const ds = isObject(d['delivery-status']) ? d['delivery-status'] : {};
      const headers = isObject(d.message) && isObject(d.message.headers) ? d.message.headers : {};
      let kind = KINDS[name] ?? 'unknown';
      if (kind === 'failed') kind = d.severity === 'temporary' ? 'bounce_soft' : 'bounce_hard';
      const code = ds.code ?? undefined;
      const e: ProviderEvent = {
        kind,
        status: str(ds['enhanced-code']) ?? (code !== undefined ? String(code) : (str(d.reason) ?? name)),
        detail: str(ds.description) ?? str(ds.message) ?? str(d.reason) ?? name,
        externalId: id,
        occurredAt: when(d.timestamp),
        messageId: str(headers['message-id']),
        recipient: str(d.recipient),
      };
      return { events: [e], ignored: 0 };
    },
  };
}
