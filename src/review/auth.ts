import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context as HonoContext } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';

// Cookies and tokens of the editors' app. The session cookie is "<id>.<verifier>":
// the id names a row in editor_sessions (src/store/sessions.ts), the verifier is
// 32 random bytes of which the store keeps only a SHA-256, so signing out,
// revoking or removing an editor ends the session on the server at once.
// CSRF tokens are HMACs of the session id (signed-in forms) or of a random
// pre-session cookie (the sign-in form itself): a page on another site can
// neither read nor compute them.

export const SESSION_COOKIE = 'bs_session';
export const PRE_COOKIE = 'bs_pre';

const mac = (secret: Buffer, purpose: string, v: string) =>
  createHmac('sha256', secret).update(`${purpose}:${v}`).digest('base64url');

/** Constant-time comparison of two strings of any length (hashed first, so lengths do not leak). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

export const verifierHash = (verifier: string) => createHash('sha256').update(verifier, 'utf8').digest('hex');

// Session ids are typed by ops (`editors revoke <id>`): 12 characters from an
// alphabet without look-alikes (no l/1, o/0) that never starts with "-" (which
// a command line would take for an option). 60 bits; the id is a name, the
// verifier is the secret.
const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const sessionId = () => [...randomBytes(12)].map((b) => ID_ALPHABET[b & 31]).join('');

/** A new session's id, its verifier (only ever in the cookie) and the cookie value. */
export function newSessionToken(): { id: string; verifier: string; cookie: string } {
  const id = sessionId();
  const verifier = randomBytes(32).toString('base64url');
  return { id, verifier, cookie: `${id}.${verifier}` };
}

/** The id and verifier in a session cookie, or undefined when it is not one of ours. */
export function parseSessionCookie(value: string | undefined): { id: string; verifier: string } | undefined {
  const m = value && /^([a-z2-9]{12})\.([A-Za-z0-9_-]{43})$/.exec(value);
  return m ? { id: m[1]!, verifier: m[2]! } : undefined;
}

/** A keyed hash of the client address: enough to tell sessions apart, not to recover the address. */
export const ipHash = (secret: Buffer, client: string) => mac(secret, 'ip', client).slice(0, 16);

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
