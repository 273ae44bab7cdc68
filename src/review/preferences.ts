import { Hono, type Context as HonoContext } from 'hono';
import type { Context } from '../context.ts';
import { tokenKeys, verifyToken } from '../delivery/tokens.ts';
import { unsubscribeToken } from '../delivery/unsubscribe.ts';
import type { Backend } from '../store/backend.ts';
import type { DB } from '../store/db.ts';
import { backendOf } from '../store/signups.ts';
import { type Subscriber, subscribersFor } from '../store/subscribers.ts';
import { crossSite } from './guard.ts';
import { LANGUAGES, preferencesPage } from './preferences-views.ts';
import { maskEmail } from './unsubscribe.ts';
import { layout, messagePage } from './views.ts';

// The preference centre (issue 14): /p/<token> from every digest footer.
//   GET  /p/<token>   the reader's settings (address masked); changes nothing
//   POST /p/<token>   name, language, topics, editions, pause-until; 303 back
// No login: the encrypted token is the key (v2, kind "p"; v1 unsubscribe links
// are accepted too). CSRF: an attacker cannot know the token, and a cross-site
// POST is refused here (the route is exempt from the app-wide check only so
// that /p/ shares /c/'s registration; see readers.ts).

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function preferencesRoutes(ctx: Context, store: DB | Backend, secret: Buffer, brand: string) {
  const app = new Hono();
  const keys = tokenKeys(secret);
  const subs = subscribersFor(backendOf(store), () => ctx.clock.now());
  const editions = Object.entries(ctx.config.editions).map(([value, e]) => ({ value, title: e.title }));
  const topics = ctx.config.subscribers.topics.length
    ? ctx.config.subscribers.topics
    : ctx.config.email.sections;

  const resolve = async (token: string): Promise<{ list: string; s: Subscriber } | undefined> => {
    const t = verifyToken(keys, token, 'p', ctx.clock.now().getTime());
    if (!t) return undefined;
    const s = await (t.v === 2 ? subs.byId(t.id) : subs.get(t.email));
    return s && s.statusReason !== 'forgotten' ? { list: t.list, s } : undefined;
  };
  const invalid = (c: HonoContext, status = 400) =>
    c.html(
      layout(
        { public: true, title: '連結無效', brand },
        messagePage('連結無效', '這個連結無效或已被改動。請使用最近一封簡報內的連結。'),
      ),
      status as 400,
    );
  const render = (
    c: HonoContext,
    r: { list: string; s: Subscriber },
    extra: { saved?: boolean; error?: string },
    status = 200,
  ) => {
    const { s } = r;
    return c.html(
      layout(
        { public: true, title: '訂閱設定', brand },
        preferencesPage({
          masked: maskEmail(s.email),
          name: s.name ?? '',
          locale: s.locale ?? ctx.config.locale,
          topics: topics.map((value) => ({ value, checked: s.topics.includes(value) })),
          editions: editions.map((e) => ({ ...e, checked: !s.editions || s.editions.includes(e.value) })),
          pausedUntil: s.pausedUntil ?? '',
          active: s.status === 'active',
          saved: Boolean(extra.saved),
          error: extra.error,
          unsubscribeAction: `../u/${unsubscribeToken(keys, r.list, s.id)}`,
        }),
      ),
      status as 200,
    );
  };

  app.get('/:token', async (c) => {
    const r = await resolve(c.req.param('token'));
    if (!r) return invalid(c);
    return render(c, r, { saved: c.req.query('saved') === '1' });
  });

  app.post('/:token', async (c) => {
    // Reader pages send no Referer (the token is in the URL), and under that
    // policy browsers post `Origin: null` from our own form; Sec-Fetch-Site still
    // says same-origin, so it decides when present, the Origin check otherwise.
    const site = c.req.header('sec-fetch-site')?.toLowerCase();
    if (
      site !== 'same-origin' &&
      crossSite(c, { publicUrl: ctx.config.publicUrl, trustProxy: ctx.config.review.trustProxy })
    )
      return invalid(c, 403);
    const r = await resolve(c.req.param('token'));
    if (!r) return invalid(c);
    let body: Record<string, string | File | (string | File)[]>;
    try {
      body = await c.req.parseBody({ all: true });
    } catch {
      return render(c, r, { error: '無法讀取表單。' }, 400);
    }
    const list = (k: string) => {
      const v = body[k];
      return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter(
        (x): x is string => typeof x === 'string',
      );
    };
    const one = (k: string) => list(k)[0]?.trim() ?? '';
    const name = one('name');
    const locale = one('locale');
    const paused = one('pausedUntil');
    if (name.length > 64 || /[\u0000-\u001f\u007f]/.test(name))
      return render(c, r, { error: '稱呼太長或含有控制字元。' }, 400);
    if (locale && !LANGUAGES.some(([l]) => l === locale))
      return render(c, r, { error: '不支援這個語言。' }, 400);
    if (paused && (!DATE.test(paused) || Number.isNaN(Date.parse(paused))))
      return render(c, r, { error: '日期格式應為 YYYY-MM-DD。' }, 400);
    const chosenEditions = list('editions').filter((e) => editions.some((x) => x.value === e));
    if (editions.length > 1 && chosenEditions.length === 0)
      return render(c, r, { error: '請至少選一份簡報；不想再收到，請按「取消訂閱」。' }, 400);
    await subs.setPreferences(r.s.id, {
      name: name || null,
      locale: locale || null,
      topics: [...new Set(list('topics').filter((t) => topics.includes(t)))],
      // Every edition ticked = "all", so editions added later reach the reader too.
      editions: editions.length > 1 && chosenEditions.length < editions.length ? chosenEditions : null,
      pausedUntil: paused || null,
    });
    ctx.logger.info({ subscriber: r.s.id }, 'reader preferences saved');
    return c.redirect(`${c.req.param('token')}?saved=1`, 303);
  });
  return app;
}
