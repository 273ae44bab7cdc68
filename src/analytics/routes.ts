import { Hono, type Context as HonoContext } from 'hono';
import { html } from 'hono/html';
import type { Context } from '../context.ts';
import { tokenKeys } from '../delivery/tokens.ts';
import { withUtm } from '../email/fields.ts';
import { BroadsheetError } from '../errors/index.ts';
import { clientOf } from '../review/auth.ts';
import { layout, messagePage } from '../review/views.ts';
import type { Backend } from '../store/backend.ts';
import type { DB } from '../store/db.ts';
import { latestSendRunPg } from '../store/pg/analytics.ts';
import { backendOf } from '../store/signups.ts';
import { recordClickIn, recordOpenIn } from './record.ts';
import { verifyClick, verifyOpen, verifyReaderRef } from './token.ts';

// Click redirects /r/<token>[/<ref>] and the optional open pixel
// /o/<token>[/<ref>].gif (issue 15). Public, followed from mail clients (exempt
// from the review app's Origin check, src/review/readers.ts).
//
// /r/ redirects only where a genuine token says: the target is inside the
// signed token, so there is no parameter to point it elsewhere (never an open
// redirect). A bad token gets a 404 page with a link to the archive. Recording
// can fail (a locked store) without the reader noticing: they are redirected
// anyway and the failure is logged (ANALYTICS_RECORD_FAILED).

/** A transparent 1×1 GIF (43 bytes). */
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const NO_STORE = {
  'Cache-Control': 'no-store, private',
  'Referrer-Policy': 'no-referrer',
  'X-Robots-Tag': 'noindex, nofollow',
};

export function analyticsRoutes(ctx: Context, store: DB | Backend, secret: Buffer) {
  const app = new Hono();
  const backend = backendOf(store);
  const keys = tokenKeys(secret);
  const cfg = ctx.config.analytics;
  const brand = ctx.config.brand.name;

  /**
   * The newest edition a send ran for, for the 404 page's archive link; else the
   * newsroom's site. From `runs` by its primary key (newest id first): a forged
   * link must never cost a scan of the 1M-row sends table.
   */
  const archiveLink = async (): Promise<string> => {
    try {
      const edition =
        backend.kind === 'sqlite'
          ? (
              backend.db
                .prepare(
                  "SELECT edition FROM runs WHERE kind = 'send' AND edition IS NOT NULL ORDER BY id DESC LIMIT 1",
                )
                .get() as { edition: string } | undefined
            )?.edition
          : await latestSendRunPg(backend.pool);
      if (edition) return new URL(`archive/${encodeURIComponent(edition)}`, ctx.config.publicUrl).href;
    } catch {
      // the store is unreadable: the newsroom's own site will do
    }
    return ctx.config.brand.url;
  };

  const notFound = async (c: HonoContext) => {
    const path = c.req.path.length > 120 ? `${c.req.path.slice(0, 117)}…` : c.req.path;
    ctx.logger.debug(
      { code: 'ANALYTICS_LINK_INVALID' },
      new BroadsheetError('ANALYTICS_LINK_INVALID', { path }).message,
    );
    return c.html(
      layout(
        { public: true, title: '連結無效', brand },
        messagePage(
          '連結無效',
          '這個連結無效或已被改動。',
          html`<p><a href="${await archiveLink()}">瀏覽電郵簡報存檔</a></p>`,
        ),
      ),
      404,
      NO_STORE,
    );
  };

  const hitOf = (c: HonoContext, edition: string, ref: string | undefined) => {
    const subscriberId = cfg.perReader && ref !== undefined ? verifyReaderRef(keys, edition, ref) : undefined;
    return {
      edition,
      method: c.req.method,
      ip: clientOf(c, ctx.config.review.trustProxy),
      userAgent: c.req.header('user-agent'),
      at: ctx.clock.now(),
      ...(subscriberId !== undefined ? { subscriberId } : {}),
    };
  };

  const click = async (c: HonoContext) => {
    const claims = verifyClick(keys, c.req.param('token') ?? '');
    if (!claims) return notFound(c);
    // A ref that does not verify is ignored (the click still counts, unattributed).
    const hit = { ...hitOf(c, claims.edition, c.req.param('ref')), story: claims.story };
    try {
      const r = await recordClickIn(backend, secret, cfg, hit);
      if (r.scanner)
        ctx.logger.debug(
          { edition: claims.edition, story: claims.story, reason: r.reason },
          'click judged a scanner',
        );
    } catch (err) {
      const e = new BroadsheetError(
        'ANALYTICS_RECORD_FAILED',
        { edition: claims.edition, detail: err instanceof Error ? err.message : String(err) },
        { cause: err },
      );
      ctx.logger.warn({ code: e.code, hint: e.hint }, e.message);
    }
    return c.body(null, 302, {
      ...NO_STORE,
      Location: withUtm(claims.url, ctx.config.email.utm, claims.edition),
    });
  };
  // Hono answers HEAD with the GET route (body dropped); c.req.method still says HEAD.
  app.get('/r/:token', click);
  app.get('/r/:token/:ref', click);

  app.get('/o/:file{[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]{22})?\\.gif}', async (c) => {
    const [token, ref] = c.req.param('file').slice(0, -4).split('/');
    const edition = verifyOpen(keys, token ?? '');
    if (!edition) return notFound(c);
    // Only while the setting is on: switching it off stops recording even for emails already out.
    if (cfg.openPixel)
      try {
        await recordOpenIn(backend, secret, cfg, hitOf(c, edition, ref));
      } catch (err) {
        const e = new BroadsheetError(
          'ANALYTICS_RECORD_FAILED',
          { edition, detail: err instanceof Error ? err.message : String(err) },
          { cause: err },
        );
        ctx.logger.warn({ code: e.code, hint: e.hint }, e.message);
      }
    return c.body(GIF, 200, {
      ...NO_STORE,
      'Content-Type': 'image/gif',
      'Content-Length': String(GIF.length),
    });
  });
  return app;
}
