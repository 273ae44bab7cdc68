import type { EventSource, MailEventInput } from '../store/events.ts';

/** What a provider sees of a call to /hooks/<provider>: the raw bytes, exactly as signed. */
export interface WebhookRequest {
  headers: Headers;
  url: URL;
  body: Buffer;
  /** The body as UTF-8. */
  text: string;
  /** When the call arrived (the app's clock). */
  now: Date;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * One provider event, before attribution: the MailEventInput fields the
 * payload gives, plus what names the reader (the original Message-ID, or the
 * recipient) — record.ts turns these into subscriberId and edition.
 */
export interface ProviderEvent extends Omit<MailEventInput, 'source' | 'subscriberId' | 'edition'> {
  messageId?: string | null;
  recipient?: string | null;
}

export interface Parsed {
  events: ProviderEvent[];
  /** Events the payload held that are not ours to record (opens, clicks, "processed"). */
  ignored: number;
  /** SNS only: a verified SubscriptionConfirmation to act on. */
  subscribe?: { url: string; topicArn: string };
  /** SNS only: a verified UnsubscribeConfirmation (logged). */
  unsubscribed?: { topicArn: string };
}

/** A webhook source: one file under providers/ and one line in registry.ts. */
export interface Provider {
  name: Extract<EventSource, 'ses' | 'postmark' | 'sendgrid' | 'mailgun'>;
  /** Is the call the provider's own, and fresh? Never throws; a refusal says why (no secrets). */
  verify(req: WebhookRequest): Verdict | Promise<Verdict>;
  /** The events of a verified call; throws on a body it cannot read (answered 400). */
  parse(req: WebhookRequest): Parsed;
}

/** Thrown by parse(): a verified call whose body is not the documented format. */
export class MalformedPayload extends Error {}

export const refuse = (reason: string): Verdict => ({ ok: false, reason });
export const OK: Verdict = { ok: true };

/** A JSON body, or MalformedPayload. */
export function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedPayload('body is not JSON');
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A provider timestamp (ISO string, or seconds since the epoch) as a Date, if it is one. */
export function when(v: unknown): Date | undefined {
  const d = typeof v === 'number' ? new Date(v * 1000) : typeof v === 'string' ? new Date(v) : undefined;
  return d && Number.isFinite(d.getTime()) ? d : undefined;
}
