import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.ts';
import type { Edition } from '../edition/model.ts';
import type { Manifest, ManifestCard, ManifestPost } from '../jobs/manifest.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { tuneMalloc } from '../util/malloc.ts';
import { glyphStoreDir } from './beside.ts';
import { caption } from './captions.ts';
import { FORMATS } from './formats.ts';
import { environmentDigest, inputHash } from './hash.ts';
import { type CardItem, editionItems } from './items.ts';
import { articlePhoto, photoFor, portraitFor, quotePortrait } from './photos/index.ts';
import type { CardJob } from './render.ts';
import type { CardTask } from './worker.ts';

/**
 * What a build's card stage will do, before anything is drawn: every kind ×
 * format of the edition with its inputHash, split into the cards kept from the
 * last build (same inputHash, file still there with the recorded sha256) and
 * those to draw; captions are written here (they are text, and cheap).
 */
export interface CardPlan {
  items: CardItem[];
  /** Kept cards (drawn cards are added as they finish). */
  cards: ManifestCard[];
  todo: { card: ManifestCard; task: CardTask }[];
  posts: ManifestPost[];
  failures: Manifest['failures'];
  kept: number;
}

const fileSha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Write only when the bytes differ: an unchanged rebuild does no fsyncs. */
async function writeIfChanged(file: string, text: string): Promise<void> {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  await writeFileAtomic(file, text);
}

export async function planCards(
  edition: Edition,
  ctx: Context,
  opts: { editionDir: string; previous?: ManifestCard[]; onFirstTodo?: () => void },
): Promise<CardPlan> {
  const cfg = ctx.config.cards;
  const { brand } = ctx.config;
  const items = editionItems(edition, {
    kinds: cfg.kinds,
    contentDir: ctx.paths.content,
    brandUrl: brand.url,
    publicUrl: ctx.config.publicUrl,
    numbers: cfg.numbers,
  });
  const env = environmentDigest(ctx.paths.templates);
  const previous = new Map((opts.previous ?? []).map((c) => [c.id, c]));
  // Where every card's worker reads and writes its glyph bitmaps (glyph-store.ts).
  const glyphs = glyphStoreDir(ctx.paths.out);
  const plan: CardPlan = { items, cards: [], todo: [], posts: [], failures: [], kept: 0 };

  // Before the photo crops' and the drawing's allocations (src/util/malloc.ts).
  tuneMalloc();
  for (const item of items) {
    // An article card's photo: local or fetched once per build, cropped per format.
    const art =
      item.kind === 'article' ? edition.articles.find((a) => a.id === item.itemId && a.image) : undefined;
    const source = art ? await articlePhoto(art, ctx) : undefined;
    // A quote card's portrait: one round crop for every format. Its bytes are
    // in the card data, so the inputHash covers it as it covers a photo.
    const quoted =
      item.kind === 'quote'
        ? edition.articles.find((a) => `${a.id}-quote` === item.itemId && a.quote?.portrait)
        : undefined;
    const portrait = quoted
      ? await portraitFor(await quotePortrait(quoted, ctx), ctx, quoted.quote!.portrait!.src)
      : undefined;
    for (const format of cfg.formats) {
      const id = `${item.itemId}/${format}`;
      const rel = `cards/${item.itemId}/${format}.png`;
      const data = art
        ? { ...item.data, photo: await photoFor(source, format, ctx, art.image!.src) }
        : portrait
          ? { ...item.data, portrait }
          : item.data;
      const job: CardJob = {
        id,
        kind: item.kind,
        format,
        data,
        templatesDir: ctx.paths.templates,
        brand: { name: brand.name, url: brand.url, colors: brand.colors },
        pngCompression: cfg.pngCompression,
        renderer: cfg.renderer,
        numbers: cfg.numbers,
      };
      const hash = inputHash(env, {
        kind: job.kind,
        format,
        data: job.data,
        brand: job.brand,
        png: job.pngCompression,
        renderer: job.renderer,
        numbers: job.numbers,
      });
      const { width, height } = FORMATS[format];
      const card: ManifestCard = {
        id,
        itemId: item.itemId,
        kind: item.kind,
        format,
        width,
        height,
        path: rel,
        sha256: '',
        inputHash: hash,
      };
      const prev = previous.get(id);
      const file = join(opts.editionDir, rel);
      if (prev && prev.inputHash === hash && existsSync(file) && fileSha(file) === prev.sha256) {
        plan.cards.push({ ...card, sha256: prev.sha256 });
        plan.kept++;
        continue;
      }
      if (!plan.todo.length) opts.onFirstTodo?.();
      plan.todo.push({ card, task: { job, file, glyphs } });
    }

    for (const platform of cfg.platforms) {
      const c = caption(platform, item.caption, {
        maxHashtags: cfg.maxHashtags,
        campaign: cfg.utm ? edition.id : undefined,
      });
      const rel = `cards/${item.itemId}/caption.${platform}.txt`;
      try {
        await writeIfChanged(join(opts.editionDir, rel), `${c.text}\n`);
        plan.posts.push({
          itemId: item.itemId,
          platform,
          path: rel,
          text: c.text,
          length: c.length,
          limit: c.limit,
        });
      } catch (err) {
        plan.failures.push({
          itemId: item.itemId,
          code: 'CARD_RENDER',
          message: `caption.${platform}: ${(err as Error).message}`,
        });
      }
    }
  }
  return plan;
}
