import type { Hono, Context as HonoContext } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Context } from '../context.ts';
import type { LoginLimits } from '../store/review.ts';
import type { Editor, EditorAuth } from './accounts.ts';
import {
  clientOf,
  cookieOptions,
  loginCsrfFor,
  PRE_COOKIE,
  preSession,
  SESSION_COOKIE,
  safeEqual,
} from './auth.ts';
import { loginPage } from './views.ts';

// GET/POST /login and POST /logout. Failed sign-ins are rate-limited per
// client address (review.login.*), whichever way the password was wrong.

type Env = { Variables: { editor?: Editor; csrf?: string } };
type Page = (
  c: HonoContext<Env>,
  title: string,
  body: ReturnType<typeof loginPage>,
  status?: number,
) => Response | Promise<Response>;

/** A local path to go back to after a POST (never another origin). */
export const localPath = (v: unknown, fallback: string) =>
  typeof v === 'string' && /^\/(?![/\\])[^\s]*$/.test(v) && !v.includes('\\') ? v : fallback;

export function signInRoutes(
  app: Hono<Env>,
  d: {
    ctx: Context;
    auth: EditorAuth;
    limits: LoginLimits;
    secret: Buffer;
    page: Page;
    forbidden: (c: HonoContext<Env>) => Response | Promise<Response>;
  },
) {
  const { ctx, auth, limits, secret, page } = d;
  const cfg = ctx.config.review;

  const loginView = async (
    c: HonoContext<Env>,
    p: { error?: string; next?: string; name?: string },
    status = 200,
  ) => {
    const pre = preSession(c, ctx.config.publicUrl);
    return page(
      c,
      '登入',
      loginPage({
        csrf: loginCsrfFor(secret, pre),
        error: p.error,
        next: localPath(p.next, '/'),
        disabled: await auth.closed(),
        name: p.name,
      }),
      status,
    );
  };

  app.get('/login', (c) => {
    if (c.get('editor')) return c.redirect(localPath(c.req.query('next'), '/'), 303);
    return loginView(c, { next: c.req.query('next') });
  });

  app.post('/login', async (c) => {
    const body = await c.req.parseBody();
    const pre = getCookie(c, PRE_COOKIE);
    const token = typeof body._csrf === 'string' ? body._csrf : '';
    if (!pre || !safeEqual(token, loginCsrfFor(secret, pre))) return d.forbidden(c);
    const next = typeof body.next === 'string' ? body.next : '/';
    if (await auth.closed()) return loginView(c, { next }, 503);
    const client = clientOf(c, cfg.trustProxy);
    const windowMs = cfg.login.windowSeconds * 1000;
    // Counted in the store: on a shared store every replica sees every failure.
    const recent = await limits.loginFailures(client, windowMs);
    if (recent.count >= cfg.login.maxFailures) {
      const retry = Math.max(1, Math.ceil(recent.retryAfterMs / 1000));
      c.header('Retry-After', String(retry));
      ctx.logger.warn({ client }, 'sign-in rate limit reached');
      return loginView(
        c,
        { next, error: `登入失敗次數太多，請在 ${Math.ceil(retry / 60)} 分鐘後再試。` },
        429,
      );
    }
    const typed = typeof body.name === 'string' ? body.name : '';
    const r = await auth.signIn(body.name, body.password, {
      client,
      userAgent: c.req.header('user-agent'),
    });
    if (!r.ok) {
      if (r.reason === 'bad-name')
        return loginView(c, { next, error: '請填寫你的名字（最多 40 字）。' }, 400);
      await limits.addLoginFailure(client, windowMs);
      const error = (await auth.bootstrapOpen()) ? '密碼不正確。' : '名字或密碼不正確。';
      return loginView(c, { next, error, name: typed }, 401);
    }
    await limits.clearLoginFailures(client);
    setCookie(c, SESSION_COOKIE, r.cookie, cookieOptions(c, ctx.config.publicUrl, cfg.session.hours * 3600));
    ctx.logger.info(
      { editor: r.editor.name, role: r.editor.role, session: r.editor.sid },
      'editor signed in',
    );
    return c.redirect(localPath(next, '/'), 303);
  });

  // Reached only signed in and with this session's CSRF token (the app's middleware).
  app.post('/logout', async (c) => {
    const ed = c.get('editor');
    if (ed) {
      await auth.signOut(ed.sid);
      ctx.logger.info({ editor: ed.name, session: ed.sid }, 'editor signed out');
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });
}
