import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { Article } from '../../content/model.ts';
import type { Context } from '../../context.ts';
import type { CardFormat } from '../config.ts';
import type { ArticleCardData } from '../layout-api.ts';
import { cropPhoto } from './crop.ts';
import { fetchPhoto } from './fetch.ts';

// An article's photo for its cards: the local file under content/, or the
// remote https image fetched once per build; then one crop per format.
// Any failure leaves the card without a photo and logs a warning naming the URL.

export interface SourcePhoto {
  bytes: Buffer;
  alt: string;
  credit?: string;
  focus?: { x: number; y: number };
}

const isRemote = (src: string) => /^[a-z][a-z0-9+.-]*:/i.test(src);

function localBytes(src: string, contentDir: string): Buffer | undefined {
  const root = realpathSync(resolve(contentDir));
  const file = resolve(root, src);
  if (!existsSync(file)) return undefined;
  const real = realpathSync(file);
  return real.startsWith(root + sep) ? readFileSync(real) : undefined;
}

export async function articlePhoto(a: Article, ctx: Context): Promise<SourcePhoto | undefined> {
  const img = a.image;
  const cfg = ctx.config.cards.photos;
  if (!img || !cfg.enabled) return undefined;
  const warn = (reason: string) =>
    ctx.logger.warn(
      { code: 'CARD_PHOTO_FETCH', url: img.src, article: a.id, reason },
      `photo ${img.src} not used (${reason}); the cards of ${a.id} are drawn without it`,
    );
  let bytes: Buffer | undefined;
  if (isRemote(img.src)) {
    const r = await fetchPhoto(img.src, {
      cacheDir: join(ctx.paths.out, '.cache', 'photos'),
      timeoutMs: cfg.timeoutMs,
      maxBytes: cfg.maxBytes,
      failureTtlMs: cfg.failureTtlMinutes * 60_000,
      allowHttpLoopback: cfg.allowHttpLoopback,
      now: () => ctx.clock.now().getTime(),
    });
    if ('error' in r) {
      warn(r.error);
      return undefined;
    }
    bytes = r.bytes;
  } else {
    bytes = localBytes(img.src, ctx.paths.content);
    if (!bytes) {
      warn('file not found under the content folder');
      return undefined;
    }
  }
  return { bytes, alt: img.alt, credit: img.credit, focus: (img as { focus?: SourcePhoto['focus'] }).focus };
}

/** The card data's photo for one format: cropped to its slot, or none when the bytes are not an image. */
export async function photoFor(
  p: SourcePhoto | undefined,
  format: CardFormat,
  ctx: Context,
  url: string,
): Promise<ArticleCardData['photo']> {
  if (!p) return undefined;
  try {
    return { src: await cropPhoto(p.bytes, format, p.focus), alt: p.alt, credit: p.credit };
  } catch (err) {
    ctx.logger.warn(
      { code: 'CARD_PHOTO_FETCH', url, reason: (err as Error).message },
      `photo ${url} is not a readable image; drawn without it`,
    );
    return undefined;
  }
}
