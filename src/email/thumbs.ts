// Story thumbnails: each story (after the lead) with an image gets a small
// JPEG, resized and compressed at build with sharp, written under
// out/<edition>/digest/images/ and linked by absolute URL under publicUrl
// (the archive serves that folder). JPEG because every mail client shows it;
// WebP is not shown by Outlook for Windows or older Apple Mail, so it would
// need a fallback that email cannot express without <picture>.
//
// email.thumbnails: local (default) makes them from images in the content
// folder only, so a build never waits on the network; fetch downloads
// http(s) images too.
//
// A picture that cannot be read (missing file, a remote host that does not
// answer in time, not an image) means no thumbnail for that story, with a
// warning: a digest is never held up by one picture.
import { mkdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import type { Article } from '../content/model.ts';
import type { Context } from '../context.ts';
import type { Edition } from '../edition/model.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { shortAlt, type Thumb } from './view.ts';

/** Shown 96×64 CSS pixels (80 px wide on phones), stored at 2× for sharp screens. */
export const THUMB = { width: 96, height: 64, scale: 2, quality: 70 } as const;
const FETCH_TIMEOUT_MS = 5000;
const MAX_SOURCE_BYTES = 20 * 1024 * 1024;

/** The public URL of a thumbnail file; the archive serves archive/<id>/images/<file>. */
export const thumbUrl = (publicUrl: string, editionId: string, file: string) =>
  new URL(`archive/${encodeURIComponent(editionId)}/images/${encodeURIComponent(file)}`, publicUrl).href;

async function source(src: string, contentDir: string): Promise<Buffer> {
  if (/^https?:\/\//i.test(src)) {
    const res = await fetch(src, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const buf = Buffer.from(await res.arrayBuffer());
    if (buf.length > MAX_SOURCE_BYTES) throw new Error('image over 20 MB');
    return buf;
  }
  // A content-relative path must stay inside the content folder.
  const root = resolve(contentDir);
  const file = resolve(root, src);
  if (isAbsolute(src) || !file.startsWith(root + sep)) throw new Error('path outside the content folder');
  return readFile(file);
}

/** One thumbnail, made once: an existing file of the same name is reused. */
async function thumbFor(a: Article, ctx: Context, edition: Edition, dir: string): Promise<Thumb> {
  const file = `${a.id}-${THUMB.width}x${THUMB.height}.jpg`;
  const path = join(dir, file);
  const exists = await stat(path).then(
    (s) => s.size > 0,
    () => false,
  );
  if (!exists) {
    const { default: sharp } = await import('sharp');
    const input = await source(a.image!.src, ctx.paths.content);
    const out = await sharp(input, { failOn: 'error', limitInputPixels: 50_000_000 })
      .rotate()
      .resize(THUMB.width * THUMB.scale, THUMB.height * THUMB.scale, { fit: 'cover', position: 'attention' })
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

/**
 * Thumbnails for the stories after the lead, by article id, written to
 * `<digestDir>/images/`. Failures become warnings.
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
  for (const a of edition.articles.slice(1)) {
    if (!a.image) continue;
    if (mode === 'local' && /^https?:\/\//i.test(a.image.src)) continue;
    try {
      thumbs.set(a.id, await thumbFor(a, ctx, edition, dir));
    } catch (err) {
      warnings.push(`no thumbnail for ${a.id}: ${a.image.src}: ${(err as Error).message}`);
    }
  }
  return { thumbs, warnings };
}
