import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Env, Hono } from 'hono';
import sharp from 'sharp';
import type { Context } from '../context.ts';
import { cardFile, loadEdition } from './editions.ts';
import type { PublishPost } from './publisher.ts';

// Instagram and Threads fetch a post's image from a public URL. The card is
// served at <publicUrl>media/<edition>/<item>/<format>.jpg?k=<signature>: the
// signature (HMAC of the app secret over the edition, item, format and the
// card's sha256) is handed out only to a publisher, so no unpublished card can
// be fetched by guessing, and a card re-rendered since gets a new URL. JPEG:
// Instagram takes nothing else.

const sign = (secret: Buffer, edition: string, item: string, format: string, sha: string) =>
  createHmac('sha256', secret)
    .update(`media\0${edition}\0${item}\0${format}\0${sha}`)
    .digest('hex')
    .slice(0, 32);

export function cardPublicUrl(ctx: Context, secret: Buffer, post: PublishPost): string {
  const k = sign(secret, post.edition, post.itemId, post.format, post.card.sha256);
  const path = `media/${encodeURIComponent(post.edition)}/${encodeURIComponent(post.itemId)}/${encodeURIComponent(post.format)}.jpg`;
  return new URL(`${path}?k=${k}`, ctx.config.publicUrl.replace(/\/?$/, '/')).href;
}

export function mediaRoutes<E extends Env>(app: Hono<E>, o: { ctx: Context; secret: Buffer }) {
  app.get('/media/:edition/:item/:file', async (c) => {
    const e = loadEdition(o.ctx.paths.out, c.req.param('edition'));
    const format = c.req.param('file').replace(/\.jpg$/, '');
    const card = e?.manifest.cards.find((x) => x.itemId === c.req.param('item') && x.format === format);
    const file = e && card && cardFile(e, card);
    const want =
      card && e ? Buffer.from(sign(o.secret, e.id, card.itemId, card.format, card.sha256)) : undefined;
    const got = Buffer.from(c.req.query('k') ?? '');
    if (!file || !want || got.length !== want.length || !timingSafeEqual(got, want)) return c.notFound();
    const jpg = await sharp(await readFile(file))
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 90, mozjpeg: true })
      .toBuffer();
    c.header('Content-Type', 'image/jpeg');
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(new Uint8Array(jpg));
  });
}
