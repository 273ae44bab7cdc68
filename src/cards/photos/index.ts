import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { Article } from '../../content/model.ts';
import type { Context } from '../../context.ts';
import type { CardFormat } from '../config.ts';
import type { ArticleCardData, QuoteCardData } from '../layout-api.ts';
import { cropPhoto, cropPortrait, PORTRAIT_PX } from './crop.ts';
import { cachedCrop, cropKey, pruneCrops } from './crop-cache.ts';
import { fetchPhoto } from './fetch.ts';

// An article's photo for its cards, or its quote's portrait: the local file
// under content/, or the remote https image fetched once per build; then one
// crop per format (a portrait: one round crop for all). Any failure leaves the
// card without the picture and logs a CARD_PHOTO_FETCH warning naming the URL.

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

interface ImageRef {
  src: string;
  alt: string;
  credit?: string;
  focus?: { x: number; y: number };
}

/**
 * The bytes behind an image `src`: a file under content/ (symlinks may not
 * leave it), or an https URL through the build's photo fetcher (timeout, size
 * cap, type check, on-disk cache, failures remembered). Cards and the digest's
 * pictures both read images through here.
 */
export async function imageBytes(src: string, ctx: Context): Promise<{ bytes: Buffer } | { error: string }> {
  if (!isRemote(src)) {
    const bytes = localBytes(src, ctx.paths.content);
    return bytes ? { bytes } : { error: 'file not found under the content folder' };
  }
  const cfg = ctx.config.cards.photos;
  return fetchPhoto(src, {
    cacheDir: join(ctx.paths.out, '.cache', 'photos'),
    timeoutMs: cfg.timeoutMs,
    maxBytes: cfg.maxBytes,
    failureTtlMs: cfg.failureTtlMinutes * 60_000,
    allowHttpLoopback: cfg.allowHttpLoopback,
    now: () => ctx.clock.now().getTime(),
  });
}

/** The bytes of an article's image or portrait, or undefined (warned) when they cannot be had. */
async function sourceImage(
  img: ImageRef,
  ctx: Context,
  what: { article: string; name: string; cards: string },
): Promise<SourcePhoto | undefined> {
  const r = await imageBytes(img.src, ctx);
  if ('error' in r) {
    ctx.logger.warn(
      { code: 'CARD_PHOTO_FETCH', url: img.src, article: what.article, reason: r.error },
      `${what.name} ${img.src} not used (${r.error}); ${what.cards} drawn without it`,
    );
    return undefined;
  }
  const { bytes } = r;
  return { bytes, alt: img.alt, credit: img.credit, focus: img.focus };
}

export async function articlePhoto(a: Article, ctx: Context): Promise<SourcePhoto | undefined> {
  if (!a.image || !ctx.config.cards.photos.enabled) return undefined;
  return sourceImage(a.image, ctx, { article: a.id, name: 'photo', cards: `the cards of ${a.id} are` });
}

/** The speaker's portrait for the article's quote card (quote.portrait), fetched like a photo. */
export async function quotePortrait(a: Article, ctx: Context): Promise<SourcePhoto | undefined> {
  const p = a.quote?.portrait;
  if (!p || !ctx.config.cards.photos.enabled) return undefined;
  return sourceImage(p, ctx, { article: a.id, name: 'portrait', cards: `the quote card of ${a.id} is` });
}

const pruned = new Set<string>();
/** out/.cache/crops/ (crop-cache.ts), pruned of month-old entries once per process. */
function cropDir(ctx: Context): string {
  const dir = join(ctx.paths.out, '.cache', 'crops');
  if (!pruned.has(dir)) {
    pruned.add(dir);
    pruneCrops(dir, ctx.clock.now().getTime());
  }
  return dir;
}

/** The quote card's round portrait (one crop for every format), or none when the bytes are not an image. */
export async function portraitFor(
  p: SourcePhoto | undefined,
  ctx: Context,
  url: string,
): Promise<QuoteCardData['portrait']> {
  if (!p) return undefined;
  try {
    const key = cropKey({ kind: 'portrait', px: PORTRAIT_PX, focus: p.focus ?? null }, p.bytes);
    const src = await cachedCrop(cropDir(ctx), key, () => cropPortrait(p.bytes, p.focus));
    return { src, alt: p.alt, credit: p.credit };
  } catch (err) {
    ctx.logger.warn(
      { code: 'CARD_PHOTO_FETCH', url, reason: (err as Error).message },
      `portrait ${url} is not a readable image; the quote card is drawn without it`,
    );
    return undefined;
  }
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
    const key = cropKey({ kind: 'photo', format, focus: p.focus ?? null }, p.bytes);
    const src = await cachedCrop(cropDir(ctx), key, () => cropPhoto(p.bytes, format, p.focus));
    return { src, alt: p.alt, credit: p.credit };
  } catch (err) {
    ctx.logger.warn(
      { code: 'CARD_PHOTO_FETCH', url, reason: (err as Error).message },
      `photo ${url} is not a readable image; drawn without it`,
    );
    return undefined;
  }
}
