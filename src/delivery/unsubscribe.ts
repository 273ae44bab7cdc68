import { createHmac, timingSafeEqual } from 'node:crypto';

// Unsubscribe tokens: <payload>.<mac>, both base64url. The payload names the
// list and the subscriber; the MAC is HMAC-SHA256 over it with the app secret,
// so a token cannot be forged or moved to another subscriber or list.

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function unsubscribeToken(secret: Buffer, list: string, subscriber: string): string {
  const payload = b64(JSON.stringify({ l: list, s: subscriber }));
  const mac = createHmac('sha256', secret).update(payload).digest();
  return `${payload}.${b64(mac)}`;
}

/** The list and subscriber of a valid token, or undefined (constant-time MAC check). */
export function verifyUnsubscribeToken(
  secret: Buffer,
  token: string,
): { list: string; subscriber: string } | undefined {
  const [payload, mac, extra] = token.split('.');
  if (!payload || !mac || extra !== undefined) return undefined;
  // Compare the MAC as written, not as decoded: base64url's last character has
  // spare bits, so a decode-then-compare would accept altered spellings.
  const want = Buffer.from(b64(createHmac('sha256', secret).update(payload).digest()));
  const got = Buffer.from(mac);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
  try {
    const v = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { l?: unknown; s?: unknown };
    return typeof v.l === 'string' && typeof v.s === 'string' ? { list: v.l, subscriber: v.s } : undefined;
  } catch {
    return undefined;
  }
}

export const unsubscribeUrl = (publicUrl: string, token: string) => new URL(`u/${token}`, publicUrl).href;
