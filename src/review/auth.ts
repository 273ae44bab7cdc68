import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context as HonoContext } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

// Editors' sessions without a session table: the cookie carries
// {name, session id, expiry} with an HMAC of the app secret, so it cannot be
// forged or extended. CSRF tokens are HMACs of the session id (signed-in
// forms) or of a random pre-session cookie (the sign-in form itself): a page
// on another site can neither read nor compute them.

export const SESSION_COOKIE = 'bs_session';
export const PRE_COOKIE = 'bs_pre';

export interface Editor {
  name: string;
  sid: string;
  exp: number;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const mac = (secret: Buffer, purpose: string, v: string) =>
  createHmac('sha256', secret).update(`${purpose}:${v}`).digest('base64url');

/** Constant-time comparison of two strings of any length (hashed first, so lengths do not leak). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

export function sessionValue(secret: Buffer, e: Editor): string {
  const payload = b64(JSON.stringify({ n: e.name, s: e.sid, e: e.exp }));
  return `${payload}.${mac(secret, 'session', payload)}`;
}

export function readSession(secret: Buffer, value: string | undefined, nowMs: number): Editor | undefined {
  if (!value) return undefined;
  const [payload, sig, extra] = value.split('.');
  if (!payload || !sig || extra !== undefined || !safeEqual(sig, mac(secret, 'session', payload)))
    return undefined;
  try {
    const v = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      n?: unknown;
      s?: unknown;
      e?: unknown;
    };
    if (typeof v.n !== 'string' || typeof v.s !== 'string' || typeof v.e !== 'number' || v.e <= nowMs)
      return undefined;
    return { name: v.n, sid: v.s, exp: v.e };
  } catch {
    return undefined;
  }
}

export const csrfFor = (secret: Buffer, sid: string) => mac(secret, 'csrf', sid);
export const loginCsrfFor = (secret: Buffer, pre: string) => mac(secret, 'login-csrf', pre);
export const newId = () => randomBytes(18).toString('base64url');

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

/**
 * Whether the login cookie gets Secure: the browser reached us over https
 * directly, through a proxy that says so (X-Forwarded-Proto), or the public URL
 * is https and the request came by its host or by loopback (a TLS proxy on
 * this machine; browsers keep Secure cookies on http://localhost and
 * 127.0.0.1). Over plain http on another host — an editor on the LAN with
 * `--host 0.0.0.0` — Secure would make the browser drop the cookie, so not then.
 */
export function isHttps(c: HonoContext, publicUrl: string): boolean {
  const xfp = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  if (xfp === 'https') return true;
  if (new URL(c.req.url).protocol === 'https:') return true;
  const pub = new URL(publicUrl);
  const host = c.req.header('host') ?? '';
  return pub.protocol === 'https:' && (host === pub.host || LOOPBACK.test(host));
}

export function cookieOptions(c: HonoContext, publicUrl: string, maxAgeSeconds?: number) {
  return {
    httpOnly: true,
    sameSite: 'Lax' as const,
    secure: isHttps(c, publicUrl),
    path: '/',
    ...(maxAgeSeconds !== undefined ? { maxAge: Math.round(maxAgeSeconds) } : {}),
  };
}

/** The pre-session cookie for the sign-in form, set on first sight. */
export function preSession(c: HonoContext, publicUrl: string): string {
  let pre = getCookie(c, PRE_COOKIE);
  if (!pre || !/^[A-Za-z0-9_-]{20,64}$/.test(pre)) {
    pre = newId();
    setCookie(c, PRE_COOKIE, pre, cookieOptions(c, publicUrl, 3600));
  }
  return pre;
}

/** The client address for the sign-in rate limit (the socket's peer; tests without a socket share one bucket). */
export function clientOf(c: HonoContext, trustProxy = false): string {
  if (trustProxy) {
    const xff = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
    if (xff) return xff;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** An editor's name as asked at sign-in: trimmed, 1–40 characters, no control characters. */
export function cleanEditorName(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.normalize('NFC').replace(/\s+/g, ' ').trim();
  if (!s || [...s].length > 40 || /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(s)) return undefined;
  return s;
}
