import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.ts';
import type { Edition } from '../edition/model.ts';
import { isBroadsheetError } from '../errors/index.ts';
import type { Manifest, ManifestCard, ManifestContact, ManifestPost } from '../jobs/manifest.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { trimMalloc, tuneMalloc } from '../util/malloc.ts';
import { caption } from './captions.ts';
import { contactSheetPath, listContactSheets, writeContactSheets } from './contact.ts';
import { FORMATS } from './formats.ts';
import { collectPast, fullGc } from './gc.ts';
import { environmentDigest, inputHash } from './hash.ts';
import { editionItems } from './items.ts';
import { articlePhoto, photoFor, portraitFor, quotePortrait } from './photos/index.ts';
import type { CardPool } from './pool.ts';
import { pruneStaleCards } from './prune.ts';
import type { CardJob } from './render.ts';
import type { CardTask, CardTaskResult } from './worker.ts';
import { autoWorkers } from './workers.ts';

export interface CardsResult {
  cards: ManifestCard[];
  /** The edition's contact sheets (empty when cards.contactSheets is off). */
  contact: ManifestContact[];
  posts: ManifestPost[];
  failures: Manifest['failures'];
}

export interface RenderCardsOptions {
  editionDir: string;
  previous?: ManifestCard[];
  /** Override cards.workers (0 = in-process). */
  workers?: number;
  /** Show a progress bar (default: when stderr is a terminal). */
  progress?: boolean;
}

/**
 * In-process drawing: a full GC once V8's heap passes this and 12 MB more than
 * the last one left was allocated (gc.ts). Sample build, same hour, 2 runs
 * each: cap 128 alone (a GC every card) 34–35 s CPU, 398–404 MB; cap 128 +
 * 24 MB slack 15–21 s, 405–412 MB; cap 112 + 12 MB 20–24 s, 386–392 MB.
 */
const HEAP_CAP_MB = 112;
/**
 * …and the allocation on top of the last collection's live set before the
 * next (gc.ts). 12 until stop 23; once cards stopped taking fresh 3–8 MB
 * buffers for every card (drawn format by format) and photo cards stopped
 * going through resvg, there was less garbage to chase. Sample build (dist,
 * MALLOC_ARENA_MAX=2, same hour): slack 12 → card stage 13.8 s, peak 361–368
 * MB; 24 → 10.0 s, 368 MB (100-item edition 375 MB); 48 → 8.4 s, 388 MB,
 * too near the 400 MB goal.
 */
const HEAP_SLACK_MB = 24;

const fileSha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Write only when the bytes differ: an unchanged rebuild does no fsyncs. */
async function writeIfChanged(file: string, text: string): Promise<void> {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  await writeFileAtomic(file, text);
}

/**
 * Render every configured card kind × format of the edition into
 * `<editionDir>/cards/<item-id>/<format>.png` plus captions. `previous` is the
 * last manifest's cards: a card whose inputHash is unchanged, and whose file is
 * still there with the recorded sha256, is kept, not redrawn. One failing card
 * is reported in `failures`; the rest still render.
 */
export async function renderCards(
  edition: Edition,
  ctx: Context,
  opts: RenderCardsOptions,
): Promise<CardsResult> {
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
  const cards: ManifestCard[] = [];
  const failures: CardsResult['failures'] = [];
  const posts: ManifestPost[] = [];
  const todo: { card: ManifestCard; task: CardTask }[] = [];
  let kept = 0;

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
        cards.push({ ...card, sha256: prev.sha256 });
        kept++;
        continue;
      }
      todo.push({ card, task: { job, file } });
    }

    for (const platform of cfg.platforms) {
      const c = caption(platform, item.caption, {
        maxHashtags: cfg.maxHashtags,
        campaign: cfg.utm ? edition.id : undefined,
      });
      const rel = `cards/${item.itemId}/caption.${platform}.txt`;
      try {
        await writeIfChanged(join(opts.editionDir, rel), `${c.text}\n`);
        posts.push({
          itemId: item.itemId,
          platform,
          path: rel,
          text: c.text,
          length: c.length,
          limit: c.limit,
        });
      } catch (err) {
        failures.push({
          itemId: item.itemId,
          code: 'CARD_RENDER',
          message: `caption.${platform}: ${(err as Error).message}`,
        });
      }
    }
  }

  if (todo.length) {
    const workers = opts.workers ?? (cfg.workers === 'auto' ? autoWorkers() : cfg.workers);
    const usePool = workers >= 2 && todo.length >= cfg.poolThreshold;
    let pool: CardPool | undefined;
    let run: (t: CardTask) => Promise<CardTaskResult>;
    if (usePool) {
      const { createCardPool } = await import('./pool.ts');
      pool = createCardPool(workers);
      run = pool.run;
    } else {
      const { renderToFile } = await import('./worker.ts');
      run = renderToFile;
    }
    // Drawn format by format (the manifest is put back in edition order below):
    // consecutive cards of one size reuse the pixel and row buffers (render.ts,
    // png.ts keep two), where item by item every card of the six sizes took
    // fresh ones (page faults on first touch, and GC), and one format's glyph
    // sizes stay together in the glyph cache.
    const rank = new Map<string, number>(cfg.formats.map((f, i) => [f, i]));
    todo.sort((a, b) => (rank.get(a.card.format) ?? 0) - (rank.get(b.card.format) ?? 0));
    const bar = await progressBar(opts.progress ?? Boolean(process.stderr.isTTY), todo.length);
    const started = performance.now();
    try {
      // In-process: one at a time (satori is synchronous JS anyway). Pool: all queued.
      const one = async ({ card, task }: (typeof todo)[number]) => {
        try {
          const r = await run(task);
          cards.push({ ...card, sha256: r.sha256 });
        } catch (err) {
          const code = isBroadsheetError(err) ? err.code : 'CARD_RENDER';
          const message = err instanceof Error ? err.message : String(err);
          failures.push({ itemId: card.itemId, format: card.format, code, message });
        } finally {
          bar?.increment();
        }
      };
      if (pool) await Promise.all(todo.map(one));
      else
        for (const t of todo) {
          await one(t);
          collectPast(HEAP_CAP_MB, HEAP_SLACK_MB);
        }
    } finally {
      bar?.stop();
      await pool?.close();
    }
    // The cards' garbage (and the native pixmaps it holds) goes before the
    // contact sheets allocate: see gc.ts. One collection, ~0.1 s: not worth
    // it after a handful of cards (a one-article rebuild draws 6), where the
    // freed malloc pages are handed back without it.
    if (todo.length >= 24) fullGc({ trim: true });
    else trimMalloc();
    ctx.logger.info(
      {
        rendered: cards.length - kept,
        kept,
        failed: failures.filter((f) => f.format).length,
        workers: pool ? workers : 0,
        ms: Math.round(performance.now() - started),
      },
      'cards rendered',
    );
  } else {
    ctx.logger.info({ kept: cards.length }, 'cards unchanged');
  }

  // Each failure is logged once, here; callers only count them.
  for (const f of failures)
    ctx.logger.error(f, `card ${f.itemId}${f.format ? `/${f.format}` : ''} failed: ${f.message}`);

  // Everything this build planned stays (a failed card's old file included);
  // anything else under cards/ is from an earlier edition shape.
  const keep = new Set([
    ...todo.map((t) => t.card.path),
    ...cards.map((c) => c.path),
    ...posts.map((p) => p.path),
  ]);
  const removed = await pruneStaleCards(opts.editionDir, keep);
  if (removed.length) ctx.logger.info({ removed: removed.length }, 'removed cards no longer in the edition');

  // Manifest order: the edition's order, not completion order.
  const order = new Map<string, number>(
    items.flatMap((it, i) => cfg.formats.map((f, j): [string, number] => [`${it.itemId}/${f}`, i * 100 + j])),
  );
  cards.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  // Contact sheets: redrawn when any card was, or when one is missing.
  const sheetsMissing = cfg.formats.some((f) => !existsSync(join(opts.editionDir, contactSheetPath(f))));
  if (cfg.contactSheets && (todo.length || sheetsMissing)) {
    const sheets = await writeContactSheets(opts.editionDir, cards, cfg.formats);
    ctx.logger.info({ sheets: sheets.length }, 'contact sheets written');
  }
  // Listed only for formats that have cards: a sheet left from an older edition shape is not offered.
  const drawn = cfg.formats.filter((f) => cards.some((c) => c.format === f));
  const contact = cfg.contactSheets ? await listContactSheets(opts.editionDir, drawn) : [];
  return { cards, contact, posts, failures };
}

async function progressBar(enabled: boolean, total: number) {
  if (!enabled) return undefined;
  const { progressBar: bar } = await import('../progress.ts');
  const b = bar('cards', total);
  let done = 0;
  return { increment: () => b.update(++done), stop: b.stop };
}
