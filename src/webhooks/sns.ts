import { verify as verifySignature, X509Certificate } from 'node:crypto';
import { httpsGet } from './https-get.ts';

// Amazon SNS message signatures
// (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html):
// the documented fields of the message, "Name\nvalue\n" each in this order,
// signed with SHA1withRSA (SignatureVersion 1) or SHA256withRSA (2) by the key
// of the certificate at SigningCertURL — which must be https on an SNS host.

export type SnsType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

const FIELDS: Record<SnsType, readonly string[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: [
    'Message',
    'MessageId',
    'SubscribeURL',
    'Timestamp',
    'Token',
    'TopicArn',
    'Type',
  ],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

export interface SnsMessage {
  Type: SnsType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
}

/** The envelope's fields, checked for presence and type; undefined when it is not an SNS message. */
export function snsMessage(v: unknown): SnsMessage | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Record<string, unknown>;
  const type = m.Type;
  if (type !== 'Notification' && type !== 'SubscriptionConfirmation' && type !== 'UnsubscribeConfirmation')
    return undefined;
  const need = [
    'MessageId',
    'TopicArn',
    'Message',
    'Timestamp',
    'SignatureVersion',
    'Signature',
    'SigningCertURL',
  ];
  if (type !== 'Notification') need.push('SubscribeURL', 'Token');
  for (const k of need) if (typeof m[k] !== 'string') return undefined;
  if (m.Subject !== undefined && typeof m.Subject !== 'string') return undefined;
  return m as unknown as SnsMessage;
}

/** The string SNS signed (Subject only when the message has one). */
export function canonicalString(m: SnsMessage): string {
  const rec = m as unknown as Record<string, string | undefined>;
  return FIELDS[m.Type]
    .filter((f) => rec[f] !== undefined)
    .map((f) => `${f}\n${rec[f]}\n`)
    .join('');
}

/** An https URL on a host the pattern allows (SNS's own), else the reason it is not. */
export function snsUrl(raw: string, hostPattern: RegExp, what: string): URL | string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return `${what} is not a URL`;
  }
  if (u.protocol !== 'https:') return `${what} is not https`;
  if (u.username || u.password) return `${what} carries credentials`;
  if (!hostPattern.test(u.hostname)) return `${what} host ${u.hostname} is not an SNS host`;
  return u;
}

export interface CertFetchOptions {
  timeoutMs: number;
  maxBytes: number;
  ca?: string;
  now: () => Date;
}

type Cached = { cert: X509Certificate; at: number } | { error: string; at: number };

/**
 * Signing certificates by URL. Bounded: at most `max` URLs; a certificate is
 * kept a day, a failure a minute (so forged calls naming a bad URL cannot make
 * the server fetch it over and over); concurrent asks share one fetch.
 */
export class SnsCertCache {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<X509Certificate | string>>();

  constructor(
    private readonly o: CertFetchOptions,
    private readonly max = 32,
  ) {}

  /** The certificate, or why there is none. */
  async get(url: URL): Promise<X509Certificate | string> {
    const key = url.href;
    const now = this.o.now().getTime();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < ('cert' in hit ? 86_400_000 : 60_000))
      return 'cert' in hit ? hit.cert : hit.error;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = this.fetch(url).then((r) => {
      this.inflight.delete(key);
      this.cache.delete(key);
      while (this.cache.size >= this.max) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, typeof r === 'string' ? { error: r, at: now } : { cert: r, at: now });
      return r;
    });
    this.inflight.set(key, p);
    return p;
  }

  private async fetch(url: URL): Promise<X509Certificate | string> {
    try {
      const res = await httpsGet(url, this.o);
      if (res.status !== 200) return `signing certificate: HTTP ${res.status}`;
      const cert = new X509Certificate(res.body);
      const now = this.o.now().getTime();
      if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo))
        return 'signing certificate is outside its validity period';
      if (cert.publicKey.asymmetricKeyType !== 'rsa') return 'signing certificate has no RSA key';
      return cert;
    } catch (err) {
      return `signing certificate: ${(err as Error).message}`;
    }
  }
}

/** Does the message's signature verify with the certificate's key? */
export function signatureValid(m: SnsMessage, cert: X509Certificate): boolean {
  const alg = m.SignatureVersion === '1' ? 'sha1' : m.SignatureVersion === '2' ? 'sha256' : undefined;
  if (!alg) return false;
  try {
    return verifySignature(
      alg,
      Buffer.from(canonicalString(m), 'utf8'),
      cert.publicKey,
      Buffer.from(m.Signature, 'base64'),
    );
  } catch {
    return false;
  }
}
