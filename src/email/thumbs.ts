// Digest pictures, resized and compressed at build with sharp, written under
// out/<edition>/digest/images/ and linked by absolute URL under publicUrl
// (the archive serves that folder): the lead's picture at 2× its 552 px
// column, and a small thumbnail for each later story with an image, cropped
// around the article's image.focus (else sharp's attention strategy). JPEG because every mail client shows it;
// WebP is not shown by Outlook for Windows or older Apple Mail, so it would
// need a fallback that email cannot express without <picture>.
//
// email.thumbnails: local (default) makes them from images in the content
// folder only, so a build never waits on the network; fetch also reads
// https images through the cards' photo fetcher (timeout, size cap, cache).
//
// A picture that cannot be read (missing file, a remote host that does not
// answer in time, not an image) means no thumbnail for that story, with a
// warning: a digest is never held up by one picture.
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Article } from '../content/model.ts';
import type { Context } from '../context.ts';
import type { Edition } from '../edition/model.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { shortAlt, type Thumb } from './view.ts';

/** Shown 96×64 CSS pixels (80 px wide on phones), stored at 2× for sharp screens. */
export const THUMB = { width: 96, height: 64, scale: 2, quality: 70 } as const;

/** The public URL of a thumbnail file; the archive serves archive/<id>/images/<file>. */
export const thumbUrl = (publicUrl: string, editionId: string, file: string) =>
  new URL(`archive/${encodeURIComponent(editionId)}/images/${encodeURIComponent(file)}`, publicUrl).href;

/** The picture's bytes, read like the cards' photos (src/cards/photos): local file or fetched https image. */
async function source(src: string, ctx: Context): Promise<Buffer> {
  const { imageBytes } = await import('../cards/photos/index.ts');
  const r = await imageBytes(src, ctx);
  if ('error' in r) throw new Error(r.error);
  return r.bytes;
}

/** The lead picture: 552 px wide in the email, stored at 2×, never enlarged. */
export const HERO = { width: 552, scale: 2, quality: 75 } as const;

const exists = (path: string) =>
  stat(path).then(
    (s) => s.size > 0,
    () => false,
  );

/** Cover-crop to w×h around the focus point (fractions), else sharp's attention strategy. */
async function cropped(input: Buffer, w: number, h: number, focus: { x: number; y: number } | undefined) {
  const { default: sharp } = await import('sharp');
  const img = sharp(input, { failOn: 'error', limitInputPixels: 50_000_000 }).rotate();
  if (!focus) return img.resize(w, h, { fit: 'cover', position: 'attention' });
  const meta = await sharp(input).rotate().metadata();
  const [sw, sh] = meta.autoOrient
    ? [meta.autoOrient.width, meta.autoOrient.height]
    : [meta.width!, meta.height!];
  const scale = Math.max(w / sw, h / sh);
  const [rw, rh] = [Math.max(w, Math.round(sw * scale)), Math.max(h, Math.round(sh * scale))];
  const clamp = (v: number, max: number) => Math.min(Math.max(0, Math.round(v)), max);
  return img.resize(rw, rh).extract({
    left: clamp(focus.x * rw - w / 2, rw - w),
    top: clamp(focus.y * rh - h / 2, rh - h),
    width: w,
    height: h,
  });
}

/** One thumbnail, made once: an existing file of the same name is reused. */
async function thumbFor(a: Article, ctx: Context, edition: Edition, dir: string): Promise<Thumb> {
  const file = `${a.id}-${THUMB.width}x${THUMB.height}.jpg`;
  const path = join(dir, file);
  if (!(await exists(path))) {
    const input = await source(a.image!.src, ctx);
    const img = await cropped(input, THUMB.width * THUMB.scale, THUMB.height * THUMB.scale, a.image!.focus);
    const out = await img
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: THUMB.quality, mozjpeg: true, progressive: true })
      .toBuffer();
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(path, out);
  }
  return {
    src: thumbUrl(ctx.config.publicUrl, edition.id, file),
    width: THUMB.width,
    height: THUMB.height,
    alt: shortAlt(a.image!.alt, a.title),
  };
}

/** The lead picture resized for the email's column, made once. */
async function heroFor(a: Article, ctx: Context, edition: Edition, dir: string): Promise<Thumb> {
  const file = `${a.id}-${HERO.width}w.jpg`;
  const path = join(dir, file);
  const { default: sharp } = await import('sharp');
  if (!(await exists(path))) {
    const input = await source(a.image!.src, ctx);
    const out = await sharp(input, { failOn: 'error', limitInputPixels: 50_000_000 })
      .rotate()
      .resize({ width: HERO.width * HERO.scale, withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: HERO.quality, mozjpeg: true, progressive: true })
      .toBuffer();
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(path, out);
  }
  const meta = await sharp(path).metadata();
  return {
    src: thumbUrl(ctx.config.publicUrl, edition.id, file),
    width: HERO.width,
    height: Math.round((meta.height! * HERO.width) / meta.width!),
    alt: shortAlt(a.image!.alt, a.title),
  };
}

/**
 * The lead picture and the thumbnails of the stories after it, by article id,
 * written to `<digestDir>/images/`. Failures become warnings (the lead then
 * keeps its original URL when it is one).
 */
export async function makeThumbnails(
  edition: Edition,
  ctx: Context,
  digestDir: string,
): Promise<{ thumbs: Map<string, Thumb>; warnings: string[] }> {
  const thumbs = new Map<string, Thumb>();
  const warnings: string[] = [];
  const dir = join(digestDir, 'images');
  const mode = ctx.config.email.thumbnails;
  if (mode === 'off') return { thumbs, warnings };
  for (const [i, a] of edition.articles.entries()) {
    if (!a.image) continue;
    if (mode === 'local' && /^https?:\/\//i.test(a.image.src)) continue;
    try {
      thumbs.set(a.id, await (i === 0 ? heroFor : thumbFor)(a, ctx, edition, dir));
    } catch (err) {
      warnings.push(`no email picture for ${a.id}: ${a.image.src}: ${(err as Error).message}`);
    }
  }
  return { thumbs, warnings };
}
