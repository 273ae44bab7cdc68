import { Hono, type Context as HonoContext } from 'hono';
import type { Context } from '../context.ts';
import { isSafeAddress } from '../delivery/compose.ts';
import { sendConfirmation } from '../delivery/confirm.ts';
import { tokenKeys, verifyToken } from '../delivery/tokens.ts';
import { confirmMessages } from '../email/locales/confirm.ts';
import { EMAIL_LOCALES } from '../email/locales/types.ts';
import type { Backend } from '../store/backend.ts';
import type { DB } from '../store/db.ts';
import { backendOf, signupsFor } from '../store/signups.ts';
import { normalizeEmail, subscribersFor } from '../store/subscribers.ts';
import { keyedHash } from '../store/suppression.ts';
import { clientOf } from './auth.ts';
import { confirmPage, signupPage } from './subscribe-views.ts';
import { layout, messagePage } from './views.ts';

// Public signup with double opt-in (issue 14).
//   GET  /subscribe[?edition=ID]   the hosted form for an edition
//   POST /subscribe                form or JSON: {email, name?, locale?, topics?, edition?}
//   GET  /c/<token>                a page with a confirm button; changes nothing (mail scanners follow links)
//   POST /c/<token>                confirm=yes → the reader is active; List-Unsubscribe=One-Click → cancelled
//
// Privacy: every accepted POST answers the same, whatever the address's state
// (new, pending, active, suppressed), and the confirmation is sent after the
// response, so neither the answer nor its timing tells whether an address is known.
// Abuse: a hidden honeypot field (filled → the same answer, nothing done), a
// per-IP limit (429), a per-address limit (same answer, no email: nobody can use
// the form to mail-bomb an address), the app's body-size limit (413).

export interface Fields {
  email: string;
  name?: string;
  locale?: string;
  topics: string[];
  list: string;
  honeypot: boolean;
}

async function readFields(c: HonoContext, defaultList: string): Promise<Record<string, unknown> | undefined> {
  const type = c.req.header('content-type') ?? '';
  try {
    if (type.includes('application/json')) {
      const v = await c.req.json();
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    }
    const body = await c.req.parseBody({ all: true });
    return { edition: defaultList, ...body };
  } catch {
    return undefined;
  }
}

/** Validated fields, or the reason they are not usable. */
export function parseFields(
  raw: Record<string, unknown>,
  lists: readonly string[],
  topics: readonly string[],
): Fields | { error: 'email' | 'field' } {
  const str = (v: unknown) => (typeof v === 'string' ? v.trim() : undefined);
  const email = str(raw.email) ?? '';
  if (email.length > 254 || !isSafeAddress(email) || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))
    return { error: 'email' };
  const name = str(raw.name);
  if (name !== undefined && (name.length > 64 || /[\u0000-\u001f\u007f]/.test(name)))
    return { error: 'field' };
  const locale = str(raw.locale);
  if (locale && !(EMAIL_LOCALES as readonly string[]).includes(locale)) return { error: 'field' };
  const list = str(raw.edition) ?? str(raw.list) ?? lists[0]!;
  if (!lists.includes(list)) return { error: 'field' };
  const rawTopics = Array.isArray(raw.topics) ? raw.topics : raw.topics === undefined ? [] : [raw.topics];
  const chosen = rawTopics.flatMap((t) => (typeof t === 'string' ? t.split(';') : [])).map((t) => t.trim());
  // Only offered topics are kept (a form can only offer those; anything else is dropped, not refused).
  const kept = [...new Set(chosen.filter((t) => topics.includes(t)))];
  return {
    email: normalizeEmail(email),
    ...(name ? { name } : {}),
    ...(locale ? { locale } : {}),
    topics: kept,
    list,
    honeypot: Boolean(str(raw.website)),
  };
}

export function subscribeRoutes(ctx: Context, store: DB | Backend, secret: Buffer, brand: string) {
  const cfg = ctx.config.subscribers;
  const keys = tokenKeys(secret);
  const now = () => ctx.clock.now();
  const backend = backendOf(store);
  const signups = signupsFor(backend, keys, now);
  const subs = subscribersFor(backend, now);
  const lists = Object.keys(ctx.config.editions);
  const topics = cfg.topics.length ? cfg.topics : ctx.config.email.sections;
  const t = confirmMessages(ctx.config.locale);
  /** Confirmation sends under way (the response does not wait for them; tests and shutdown can). */
  const inflight = new Set<Promise<unknown>>();

  const wantsJson = (c: HonoContext) =>
    (c.req.header('content-type') ?? '').includes('application/json') ||
    (c.req.header('accept') ?? '').startsWith('application/json');
  const page = (c: HonoContext, title: string, body: Parameters<typeof layout>[1], status = 200) =>
    c.html(layout({ public: true, title, brand }, body), status as 200);
  const form = (list: string, extra: { error?: string; values?: { email?: string; name?: string } } = {}) =>
    signupPage({
      t,
      action: 'subscribe',
      list,
      listTitle: ctx.config.editions[list]?.title ?? list,
      topics,
      ...extra,
    });

  const app = new Hono();
  app.get('/subscribe', (c) => {
    const list = c.req.query('edition') ?? lists[0]!;
    if (!lists.includes(list)) return c.notFound();
    return page(c, t.signupTitle, form(list));
  });

  app.post('/subscribe', async (c) => {
    const json = wantsJson(c);
    const origin = c.req.header('origin');
    if (
      cfg.allowedOrigins.length &&
      c.req.header('sec-fetch-site') !== 'same-origin' &&
      origin &&
      !isOwn(c, origin) &&
      !cfg.allowedOrigins.includes(origin)
    )
      return json
        ? c.json({ error: 'origin' }, 403)
        : page(c, t.signupTitle, messagePage(t.signupTitle, t.invalid), 403);
    const raw = await readFields(c, lists[0]!);
    const f = raw ? parseFields(raw, lists, topics) : { error: 'field' as const };
    if ('error' in f) {
      const msg = t.badInput;
      if (json) return c.json({ error: f.error, message: msg }, 400);
      const v = raw && {
        email: String(raw.email ?? '').slice(0, 254),
        name: String(raw.name ?? '').slice(0, 64),
      };
      return page(c, t.signupTitle, form(lists[0]!, { error: msg, ...(v ? { values: v } : {}) }), 400);
    }
    await signups.purge();
    const ipKey = keyedHash(secret, 'rate-ip', clientOf(c, ctx.config.review.trustProxy));
    if (!(await signups.hit(ipKey, cfg.perIpPerHour, 3_600_000))) {
      ctx.logger.warn({}, 'signup rate limit (per IP)');
      if (json) return c.json({ error: 'rate', message: t.tooMany }, 429);
      return page(c, t.signupTitle, form(f.list, { error: t.tooMany }), 429);
    }
    const done = () =>
      json
        ? c.json({ ok: true, message: t.checkInbox }, 202)
        : page(c, t.signupTitle, messagePage(t.signupTitle, t.checkInbox), 202);
    if (f.honeypot) {
      ctx.logger.info({}, 'signup honeypot filled: ignored');
      return done();
    }
    if (!(await signups.hit(keyedHash(secret, 'rate-address', f.email), cfg.perAddressPerDay, 86_400_000))) {
      ctx.logger.warn({}, 'signup rate limit (per address): no email sent');
      return done();
    }
    const existing = await subs.get(f.email);
    // Already receiving this list: nothing to confirm, nothing sent, the same answer.
    if (existing?.status === 'active') return done();
    const pending =
      (await signups.pending(f.email, f.list)) ??
      (await signups.create(
        { ...f, ipHash: keyedHash(secret, 'ip', clientOf(c, ctx.config.review.trustProxy)) },
        cfg.pendingExpiryHours,
      ));
    const p = sendConfirmation(ctx, backend, keys, pending)
      .catch((err) => ctx.logger.error({ err }, 'signup confirmation failed'))
      .finally(() => inflight.delete(p));
    inflight.add(p);
    return done();
  });

  const confirmable = (token: string) => {
    const v = verifyToken(keys, token, 'c', now().getTime());
    return v?.v === 2 ? v : undefined;
  };

  app.get('/c/:token', async (c) => {
    const v = confirmable(c.req.param('token'));
    const s = v && (await signups.get(v.id));
    if (!v || !s || (!s.confirmedAt && s.expiresAt < now().toISOString()))
      return page(c, t.confirmTitle, messagePage(t.confirmTitle, t.invalid), 400);
    if (s.confirmedAt) return page(c, t.confirmTitle, messagePage(t.confirmTitle, t.confirmed));
    return page(
      c,
      t.confirmTitle,
      confirmPage(confirmMessages(s.locale ?? ctx.config.locale), c.req.param('token')),
    );
  });

  app.post('/c/:token', async (c) => {
    const v = confirmable(c.req.param('token'));
    if (!v) return page(c, t.confirmTitle, messagePage(t.confirmTitle, t.invalid), 400);
    const body = new URLSearchParams((await c.req.text()).slice(0, 2000));
    if (body.getAll('List-Unsubscribe').includes('One-Click')) {
      await signups.cancel(v.id);
      return c.body(null, 200);
    }
    if (body.get('confirm') !== 'yes')
      return page(c, t.confirmTitle, messagePage(t.confirmTitle, t.invalid), 400);
    // The answer in the language the reader signed up in, like the page with the button.
    const tl = confirmMessages((await signups.get(v.id))?.locale ?? ctx.config.locale);
    const outcome = await signups.confirm(v.id);
    if (outcome === 'expired') return page(c, tl.confirmTitle, messagePage(tl.confirmTitle, tl.invalid), 400);
    if (outcome === 'confirmed') ctx.logger.info({ list: v.list }, 'signup confirmed');
    return page(c, tl.confirmTitle, messagePage(tl.confirmTitle, tl.confirmed));
  });

  return { app, inflight };
}

/** The request's own origin (the hosted form posting to itself). */
function isOwn(c: HonoContext, origin: string): boolean {
  const host = c.req.header('host');
  return Boolean(host) && (origin === `http://${host}` || origin === `https://${host}`);
}
