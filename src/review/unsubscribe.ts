import { Hono, type Context as HonoContext } from 'hono';
import type { Context } from '../context.ts';
import { tokenKeys, verifyToken } from '../delivery/tokens.ts';
import { latestEditionSentTo } from '../report/collect.ts';
import type { Backend } from '../store/backend.ts';
import type { DB } from '../store/db.ts';
import { MailEvents } from '../store/events.ts';
import { latestEditionSentToPg, unsubscribeByLink } from '../store/pg/readers-extra.ts';
import { backendOf } from '../store/signups.ts';
import { type Subscriber, SubscriberRepo, subscribersFor } from '../store/subscribers.ts';
import { layout, messagePage, unsubscribeConfirm } from './views.ts';

// One-click unsubscribe (RFC 8058), public: the token is the capability.
//   GET  /u/<token>  a confirm page with a button; never changes anything
//                    (mail scanners and link previews fetch every URL in a message)
//   POST /u/<token>  body List-Unsubscribe=One-Click → unsubscribed, 200, idempotent
// A forged or altered token, or one whose reader was forgotten, is 400 and
// touches nothing. Tokens are opaque (src/delivery/tokens.ts); v1 links from
// older emails still resolve, by the address they carry. No CSRF token here:
// mail providers POST without one, and the MAC'd token already names exactly
// one subscriber.

/** r***@example.com: enough for a reader to recognise the address, not for a link forwarded around. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}

/**
 * The RFC 8058 body: List-Unsubscribe=One-Click, sent form-encoded or as
 * multipart by mail providers; a plain-text body or a missing Content-Type is
 * read the same way rather than refused.
 */
async function isOneClick(c: HonoContext): Promise<boolean> {
  const type = c.req.header('content-type') ?? '';
  try {
    if (type.includes('multipart/form-data'))
      return (await c.req.parseBody())['List-Unsubscribe'] === 'One-Click';
    const text = (await c.req.text()).slice(0, 2000).trim();
    return new URLSearchParams(text).getAll('List-Unsubscribe').includes('One-Click');
  } catch {
    return false;
  }
}

export function unsubscribeRoutes(ctx: Context, store: DB | Backend, secret: Buffer, brand: string) {
  const app = new Hono();
  const backend = backendOf(store);
  const subs = subscribersFor(backend, () => ctx.clock.now());
  const keys = tokenKeys(secret);
  /** The reader leaves: the mail event and the status together (one transaction on either store). */
  const unsubscribe = async (s: Subscriber, list: string): Promise<string | null> => {
    const reason = `one-click (${list})`;
    if (backend.kind === 'postgres') {
      const edition = await latestEditionSentToPg(backend.pool, s.id);
      await unsubscribeByLink(backend.pool, s.id, edition, reason, ctx.clock.now());
      return edition;
    }
    const { db } = backend;
    const edition = latestEditionSentTo(db, s.id);
    const events = new MailEvents(db, keys, undefined, () => ctx.clock.now());
    db.transaction(() => {
      events.record({ kind: 'unsubscribe', source: 'link', subscriberId: s.id, edition, detail: reason });
      new SubscriberRepo(db, () => ctx.clock.now()).setStatus(s.email, 'unsubscribed', reason);
    })();
    return edition;
  };
  /** The token's list and reader, or undefined for a bad token or a reader no longer held. */
  const resolve = async (token: string): Promise<{ list: string; s?: Subscriber } | undefined> => {
    const t = verifyToken(keys, token, 'u', ctx.clock.now().getTime());
    if (!t) return undefined;
    const s = await (t.v === 2 ? subs.byId(t.id) : subs.get(t.email));
    // A forgotten reader's row is an erased placeholder: treat it as not held.
    return { list: t.list, s: s && s.statusReason !== 'forgotten' ? s : undefined };
  };
  // A genuine link whose reader is no longer held (forgotten): nothing to change, nothing to show.
  const gone = (c: HonoContext) =>
    c.html(
      layout(
        { public: true, title: '已取消訂閱', brand },
        messagePage('已取消訂閱', '這個地址已不會再收到電郵簡報。'),
      ),
    );
  const bad = (c: HonoContext) =>
    c.html(
      layout(
        { public: true, title: '連結無效', brand },
        messagePage('連結無效', '這個取消訂閱連結無效或已被改動。請使用電郵內的原始連結。'),
      ),
      400,
    );

  app.get('/:token', async (c) => {
    const token = c.req.param('token');
    const t = await resolve(token);
    if (!t) return bad(c);
    const { s } = t;
    if (!s) return gone(c);
    if (s.status !== 'active')
      return c.html(
        layout(
          { public: true, title: '已取消訂閱', brand },
          messagePage('已取消訂閱', `${maskEmail(s.email)} 已不會再收到電郵簡報。`),
        ),
      );
    return c.html(layout({ public: true, title: '取消訂閱', brand }, unsubscribeConfirm(maskEmail(s.email))));
  });

  app.post('/:token', async (c) => {
    const token = c.req.param('token');
    const t = await resolve(token);
    if (!t) return bad(c);
    if (!(await isOneClick(c)))
      return c.html(
        layout(
          { public: true, title: '請求無效', brand },
          messagePage('請求無效', '缺少 List-Unsubscribe=One-Click。'),
        ),
        400,
      );
    const { s } = t;
    if (!s) return gone(c);
    // Only an active subscriber changes: a repeat keeps the first time, and a
    // bounced or complained address keeps the stronger status.
    // The change is also a mail event of the latest edition sent to the reader,
    // so `broadsheet report` counts unsubscribes per edition (src/report/).
    if (s.status === 'active') {
      const edition = await unsubscribe(s, t.list);
      ctx.logger.info({ list: t.list, subscriber: s.id, edition }, 'unsubscribed (one-click)');
    }
    return c.html(
      layout(
        { public: true, title: '已取消訂閱', brand },
        messagePage('已取消訂閱', `${maskEmail(s.email)} 已不會再收到電郵簡報。`),
      ),
      200,
    );
  });
  return app;
}
