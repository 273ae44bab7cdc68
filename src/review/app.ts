import { Hono, type Context as HonoContext } from 'hono';
import { getCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { captionLength } from '../cards/captions.ts';
import type { Platform } from '../cards/config.ts';
import { themeSafeZones } from '../cards/theme.ts';
import { appSecret } from '../config/secret.ts';
import type { Context } from '../context.ts';
import { reportRoutes } from '../report/routes.ts';
import type { Backend } from '../store/backend.ts';
import type { DB } from '../store/db.ts';
import { PostLockedError, type ReviewEvent } from '../store/review.ts';
import { type Editor, EditorAuth } from './accounts.ts';
import { archiveHtml, archiveImage } from './archive.ts';
import { clientScript, css, thumbnail } from './assets.ts';
import { csrfFor, SESSION_COOKIE, safeEqual } from './auth.ts';
import { approvedBundle } from './bundle.ts';
import { contactSheetRoutes } from './contact.ts';
import {
  cardFile,
  cardForPost,
  type EditionRef,
  items,
  listEditions,
  loadEdition,
  POST_STATUSES,
  type PostStatus,
  postKey,
} from './editions.ts';
import { requestGuard } from './guard.ts';
import { mediaRoutes } from './media.ts';
import { runPublishQueue } from './publish.ts';
import { isReaderPath, readerRoutes } from './readers.ts';
import { scheduleRoutes } from './schedule.ts';
import { storeHealth } from './shared-store.ts';
import { localPath, signInRoutes } from './signin.ts';
import { publishersFor } from './social.ts';
import { webStoresFor } from './stores.ts';
import { testSendForm, testSendRoutes } from './test-send.ts';
import { unsubscribeRoutes } from './unsubscribe.ts';
import { editionsPage, type GalleryFilter, galleryPage, layout, messagePage, queuePage } from './views.ts';

// The review server: editors' gallery (signed in), one-click unsubscribe
// (/u/, public), the digest archive (/archive/, public) and static assets.

type Env = { Variables: { editor?: Editor; csrf?: string } };

const APP_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const isPublic = (path: string) =>
  path.startsWith('/u/') ||
  isReaderPath(path) ||
  path.startsWith('/archive/') ||
  path.startsWith('/static/') ||
  path.startsWith('/media/') ||
  path === '/login' ||
  path === '/healthz';

export interface ReviewAppOptions {
  /** The SQLite store (tests); or give `backend`. */
  db?: DB;
  /** The store `serve` opened: SQLite, or PostgreSQL shared by several replicas (issue 17). */
  backend?: Backend;
  /** Run the publish queue when an editor presses the button (tests pass fakes). */
  publish?: () => Promise<{ published: number; deferred: number; failed: number }>;
}

export function createReviewApp(ctx: Context, opts: ReviewAppOptions) {
  const backend: Backend = opts.backend ?? { kind: 'sqlite', db: opts.db!, file: ctx.paths.store };
  const stores = webStoresFor(ctx, backend);
  const cfg = ctx.config.review;
  const secret = appSecret(ctx);
  const auth = new EditorAuth(ctx, stores, secret);
  const repo = stores.review;
  const brand = ctx.config.brand.name;
  const publish = opts.publish ?? (() => runPublishQueue(ctx, { backend }));
  const app = new Hono<Env>();
  // Reached through publicUrl's path (https://host/broadsheet/u/…) by a proxy that
  // keeps the prefix: the public routes answer there too.
  const prefix = new URL(ctx.config.publicUrl).pathname.replace(/\/+$/, '');
  const unprefixed = (path: string) =>
    prefix && path.startsWith(`${prefix}/`) && isPublic(path.slice(prefix.length))
      ? path.slice(prefix.length)
      : path;

  const page = (c: HonoContext<Env>, title: string, body: Parameters<typeof layout>[1], status = 200) =>
    c.html(layout({ title, brand, editor: c.get('editor'), csrf: c.get('csrf') }, body), status as 200);

  app.onError((err, c) => {
    // A client that hung up (or was cut off by review.limits.requestTimeoutMs)
    // mid-body is not a server fault: no error-level log for each slow client.
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || err.message === 'aborted') {
      ctx.logger.info({ path: c.req.path }, 'client closed the connection before its request was complete');
      return c.body(null, 408);
    }
    ctx.logger.error({ err, path: c.req.path }, 'review app error');
    return c.html(
      layout({ title: '出錯', brand }, messagePage('出錯了', '伺服器處理時出錯，請稍後再試。')),
      500,
    );
  });

  // Headers for every response: no sniffing, no framing; pages are never cached.
  app.use('*', async (c, next) => {
    await next();
    const path = unprefixed(c.req.path);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    if (!path.startsWith('/static/')) c.header('Cache-Control', 'no-store');
    if (!path.startsWith('/archive/')) {
      c.header('Content-Security-Policy', APP_CSP);
      c.header(
        'Referrer-Policy',
        path.startsWith('/u/') || isReaderPath(path) ? 'no-referrer' : 'same-origin',
      );
    }
  });

  // Before anything reads a body: cross-site POSTs are refused, bodies are capped.
  app.use(
    '*',
    requestGuard({
      publicUrl: ctx.config.publicUrl,
      bodyBytes: cfg.limits.bodyBytes,
      largeBody: {
        bytes: ctx.config.webhooks.maxBodyBytes,
        applies: (path) => unprefixed(path).startsWith('/hooks/'),
      },
      trustProxy: cfg.trustProxy,
      exempt: (path) => unprefixed(path).startsWith('/u/') || isReaderPath(unprefixed(path)),
      forbidden: (c) => {
        ctx.logger.warn(
          { path: c.req.path, origin: c.req.header('origin'), site: c.req.header('sec-fetch-site') },
          'cross-site POST refused',
        );
        return forbidden(c as HonoContext<Env>);
      },
      tooLarge: (c) =>
        c.html(
          layout(
            { title: '內容太大', brand, public: unprefixed(c.req.path).startsWith('/u/') },
            messagePage('內容太大', `請求內容超過 ${Math.round(cfg.limits.bodyBytes / 1024)} KB 上限。`),
          ),
          413,
        ),
    }),
  );

  // Who is signed in; everything but the public paths needs an editor.
  app.use('*', async (c, next) => {
    const ed = await auth.resolve(getCookie(c, SESSION_COOKIE));
    if (ed) {
      c.set('editor', ed);
      c.set('csrf', csrfFor(secret, ed.sid));
    }
    if (isPublic(unprefixed(c.req.path))) return next();
    if (!ed) {
      if (c.req.method === 'GET' || c.req.method === 'HEAD') {
        const next = encodeURIComponent(c.req.path + (new URL(c.req.url).search || ''));
        return c.redirect(`/login?next=${next}`, 303);
      }
      return c.html(
        layout({ title: '請先登入', brand }, messagePage('請先登入', '這個操作需要編輯登入。')),
        401,
      );
    }
    // CSRF: every state-changing request carries the token of this session.
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      const body = await c.req.parseBody();
      const token = typeof body._csrf === 'string' ? body._csrf : (c.req.header('x-csrf-token') ?? '');
      if (!safeEqual(token, c.get('csrf')!)) return forbidden(c);
    }
    return next();
  });

  const forbidden = (c: HonoContext<Env>) =>
    c.html(
      layout(
        { title: '禁止', brand },
        messagePage('請求被拒絕', '表單已過期或來源不明（CSRF）。請重新載入頁面再試。'),
      ),
      403,
    );

  app.get('/healthz', async (c) => {
    const bad = await storeHealth(ctx, backend);
    return bad ? c.text(`store unavailable (${bad})\n`, 503) : c.text('ok');
  });
  app.get('/static/app.css', (c) => {
    c.header('Content-Type', 'text/css; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(css());
  });
  app.get('/static/app.js', async (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(await clientScript());
  });

  // ── sign in / out ──
  signInRoutes(app, { ctx, auth, limits: stores.limits, secret, page, forbidden });

  // ── gallery ──
  const viewOf = async (e: EditionRef) => {
    const list = items(e, await repo.decisions(e.id), await repo.queue(e.id), cfg.formats);
    const history = new Map<string, ReviewEvent[]>();
    for (const h of await repo.editionEvents(e.id)) {
      const k = `${h.itemId}\u0000${h.platform}`;
      history.set(k, [...(history.get(k) ?? []), h]);
    }
    return list.map((it) => ({
      ...it,
      posts: it.posts.map((p) => ({
        ...p,
        length: captionLength(p.platform as Platform, p.caption),
        history: history.get(`${p.itemId}\u0000${p.platform}`),
      })),
    }));
  };

  app.get('/', async (c) => {
    const editions = [];
    for (const e of listEditions(ctx.paths.out)) {
      const counts = Object.fromEntries(POST_STATUSES.map((s) => [s, 0])) as Record<PostStatus, number>;
      for (const it of items(e, await repo.decisions(e.id), await repo.queue(e.id), cfg.formats))
        for (const p of it.posts) counts[p.status]++;
      editions.push({ e, counts });
    }
    return page(c, '版次', editionsPage(editions));
  });

  const notFound = (c: HonoContext<Env>) =>
    page(c, '找不到', messagePage('找不到', '沒有這個版次或項目。'), 404);

  app.get('/e/:edition', async (c) => {
    const e = loadEdition(ctx.paths.out, c.req.param('edition'));
    if (!e) return notFound(c);
    const status = c.req.query('status');
    const platform = c.req.query('platform');
    const f: GalleryFilter = {
      status: POST_STATUSES.includes(status as PostStatus) ? (status as PostStatus) : undefined,
      platform: platform && /^[a-z]+$/.test(platform) ? platform : undefined,
    };
    const all = await viewOf(e);
    const platforms = [...new Set(all.flatMap((i) => i.posts.map((p) => p.platform)))];
    const approved = all.reduce(
      (n, i) => n + i.posts.filter((p) => p.status === 'approved' || p.status === 'published').length,
      0,
    );
    const list = all
      .map((it) => ({
        ...it,
        posts: it.posts.filter(
          (p) => (!f.status || p.status === f.status) && (!f.platform || p.platform === f.platform),
        ),
      }))
      .filter((it) => it.posts.length);
    const url = new URL(c.req.url);
    return page(
      c,
      e.manifest.edition.title,
      galleryPage(
        e,
        list,
        f,
        platforms,
        c.get('csrf')!,
        url.pathname + url.search,
        approved,
        ctx.config.timezone,
        e.manifest.digest ? testSendForm(c, e.id) : undefined,
        themeSafeZones(ctx.paths.templates, ctx.config.brand),
      ),
    );
  });

  const cardOf = (c: HonoContext<Env>) => {
    const e = loadEdition(ctx.paths.out, c.req.param('edition')!);
    const item = c.req.param('item');
    const format = c.req.param('file')?.replace(/\.(png|webp)$/, '');
    const card = e?.manifest.cards.find((x) => x.itemId === item && x.format === format);
    const file = e && card && cardFile(e, card);
    return file && card ? { file, card } : undefined;
  };

  app.get('/e/:edition/card/:item/:file', async (c) => {
    const hit = cardOf(c);
    if (!hit) return notFound(c);
    const { readFile } = await import('node:fs/promises');
    c.header('Content-Type', 'image/png');
    c.header('Cache-Control', 'private, max-age=60');
    return c.body(new Uint8Array(await readFile(hit.file)));
  });

  app.get('/e/:edition/thumb/:item/:file', async (c) => {
    const hit = cardOf(c);
    if (!hit) return notFound(c);
    c.header('Content-Type', 'image/webp');
    c.header('Cache-Control', 'private, max-age=300');
    return c.body(new Uint8Array(await thumbnail(hit.file, hit.card.sha256)));
  });

  app.post('/e/:edition/p/:item/:platform', async (c) => {
    const e = loadEdition(ctx.paths.out, c.req.param('edition'));
    const it = e && (await viewOf(e)).find((i) => i.id === c.req.param('item'));
    const post = it?.posts.find((p) => p.platform === c.req.param('platform'));
    if (!e || !it || !post) return notFound(c);
    const body = await c.req.parseBody();
    const editor = c.get('editor')!.name;
    const action = String(body.action ?? '');
    const key = { edition: e.id, itemId: it.id, platform: post.platform };
    // Browsers send textarea line breaks as CRLF; captions are stored with LF.
    const text =
      typeof body.caption === 'string' ? body.caption.replace(/\r\n?/g, '\n').trim() : post.caption;
    const format =
      typeof body.format === 'string' && it.cards.some((x) => x.format === body.format)
        ? body.format
        : post.format;
    const edited = text === post.generated.trim() ? null : text;
    const back = localPath(body.back, `/e/${e.id}#p-${it.id}-${post.platform}`);
    try {
      if (action === 'approve') {
        if (!text) return page(c, '不能批准', messagePage('不能批准', '文案是空的。'), 422);
        const len = captionLength(post.platform as Platform, text);
        if (len > post.limit)
          return page(
            c,
            '不能批准',
            messagePage(
              '不能批准',
              `文案有 ${len} 字，超過 ${post.limit} 字上限。請縮短後再批准。`,
              linkBack(back),
            ),
            422,
          );
        const card = cardForPost(it, { ...post, format });
        await repo.approve(key, {
          editor,
          format,
          caption: text,
          edited,
          key: postKey({ ...key, format, caption: text, cardSha256: card?.sha256 ?? '' }),
          publishers: publishersFor(ctx, post.platform),
        });
      } else if (action === 'reject') await repo.decide(key, 'rejected', { editor });
      else if (action === 'reset') {
        await repo.editCaption(key, {
          editor,
          edited: null,
          format: cfg.formats[post.platform as Platform] ?? format,
        });
        await repo.decide(key, 'pending', { editor });
      } else if (action === 'save') await repo.editCaption(key, { editor, edited, format });
      else return page(c, '未知操作', messagePage('未知操作', '請用頁面上的按鈕。'), 400);
    } catch (err) {
      if (err instanceof PostLockedError)
        return page(
          c,
          '已發佈',
          messagePage('已發佈', '這則帖文已經發佈（或正在發佈），不能再修改。', linkBack(back)),
          409,
        );
      throw err;
    }
    ctx.logger.info({ editor, action, ...key }, 'review decision');
    return c.redirect(back, 303);
  });

  app.get('/e/:edition/bundle.zip', async (c) => {
    const e = loadEdition(ctx.paths.out, c.req.param('edition'));
    if (!e) return notFound(c);
    const { zip, count } = approvedBundle(e, await viewOf(e));
    c.header('Content-Type', 'application/zip');
    c.header('Content-Disposition', `attachment; filename="${e.id}-approved.zip"`);
    c.header('X-Broadsheet-Posts', String(count));
    return c.body(zip.slice().buffer);
  });

  // ── social posts' times (src/review/schedule.ts); card images for Instagram/Threads (media.ts) ──
  scheduleRoutes(app, { ctx, repo, page });
  mediaRoutes(app, { ctx, secret });

  // ── "send me a test" (src/review/test-send.ts) ──
  testSendRoutes(app, { ctx, page });
  contactSheetRoutes(app, ctx);

  // ── publish queue ──
  const allQueue = async () => {
    const rows = [];
    for (const ed of await repo.queueEditions()) rows.push(...(await repo.queue(ed)));
    return rows.sort((a, b) => b.id - a.id);
  };

  app.get('/queue', async (c) =>
    page(
      c,
      '發佈佇列',
      queuePage(await allQueue(), c.get('csrf')!, cfg.publishers, ctx.config.timezone, {
        result: c.req.query('r'),
        canPublish: c.get('editor')!.role === 'admin',
      }),
    ),
  );

  // Publishing is for admins (accounts with role admin, or the bootstrap admin).
  app.post('/publish', async (c) => {
    if (c.get('editor')!.role !== 'admin') {
      ctx.logger.warn({ editor: c.get('editor')!.name }, 'publish refused: not an admin');
      return page(
        c,
        '沒有權限',
        messagePage('沒有權限', '只有管理員（admin）可以發佈。', linkBack('/queue')),
        403,
      );
    }
    let msg: string;
    try {
      const s = await publish();
      msg = `已發佈 ${s.published}，延後 ${s.deferred}，失敗 ${s.failed}。`;
    } catch (err) {
      msg = `發佈未能執行：${(err as Error).message}`;
    }
    ctx.logger.info({ editor: c.get('editor')!.name, result: msg }, 'publish run from the gallery');
    return c.redirect(`/queue?r=${encodeURIComponent(msg)}`, 303);
  });

  // Editors: an edition's delivery and engagement (issue 15), on either store.
  app.route('/report', reportRoutes(ctx, backend));

  // ── public: unsubscribe, signup, preferences, clicks, webhooks (either store, issue 17) ──
  app.route('/u', unsubscribeRoutes(ctx, backend, secret, brand));
  app.route('/', readerRoutes(ctx, backend, secret, brand));

  // Story thumbnails of a built edition (src/email/thumbs.ts): public, as the pictures of published articles.
  app.get('/archive/:edition/images/:file', async (c) => {
    const e = loadEdition(ctx.paths.out, c.req.param('edition'));
    const file = e && (await archiveImage(e, c.req.param('file')));
    if (!file) return c.notFound();
    c.header('Content-Type', 'image/jpeg');
    c.header('Cache-Control', 'public, max-age=604800, immutable');
    return c.body(new Uint8Array(file));
  });

  // archive/<id> is the edition's own digest; archive/<id>/zh-Hans its Simplified variant.
  const editionSent = async (id: string) =>
    backend.kind === 'sqlite'
      ? backend.db
          .prepare("SELECT 1 FROM sends WHERE edition = ? AND state IN ('sent','committed') LIMIT 1")
          .get(id) !== undefined
      : (
          await backend.pool.query(
            "SELECT 1 FROM sends WHERE edition = $1 AND state IN ('sent','committed') LIMIT 1",
            [id],
          )
        ).rows.length > 0;
  const archivePage = async (c: HonoContext<Env>, variant?: string) => {
    const id = c.req.param('edition')!;
    const e = loadEdition(ctx.paths.out, id);
    const sent = e && (cfg.archiveUnsent || c.get('editor') || (await editionSent(id)));
    const archiveUrl = new URL(`archive/${id}${variant ? `/${variant}` : ''}`, ctx.config.publicUrl).href;
    const out =
      e && sent
        ? archiveHtml(e, {
            defaultName: ctx.config.email.defaultName,
            archiveUrl,
            brandUrl: ctx.config.brand.url,
            variant,
          })
        : undefined;
    // Email HTML: inline styles, remote images; never scripts, forms or frames.
    c.header(
      'Content-Security-Policy',
      "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; font-src https: data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    c.header('Referrer-Policy', 'no-referrer');
    if (!out)
      return c.html(
        layout({ public: true, title: '找不到', brand }, messagePage('找不到', '沒有這一期的電郵版。')),
        404,
      );
    return c.html(out);
  };
  app.get('/archive/:edition', (c) => archivePage(c));
  app.get('/archive/:edition/:variant', (c) => archivePage(c, c.req.param('variant')));

  if (prefix) {
    app.all(`${prefix}/u/*`, (c) => app.fetch(stripPrefix(c.req.raw, prefix)));
    app.get(`${prefix}/archive/*`, (c) => app.fetch(stripPrefix(c.req.raw, prefix)));
    app.get(`${prefix}/media/*`, (c) => app.fetch(stripPrefix(c.req.raw, prefix)));
  }

  app.notFound((c) => page(c, '找不到', messagePage('找不到', '沒有這個頁面。'), 404));
  return app;
}

function stripPrefix(req: Request, prefix: string): Request {
  const url = new URL(req.url);
  url.pathname = url.pathname.slice(prefix.length);
  return new Request(url, req);
}

const linkBack = (href: string) => html`<p><a href="${href}">返回</a></p>`;
