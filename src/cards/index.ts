import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.ts';
import type { Edition } from '../edition/model.ts';
import { BroadsheetError, isBroadsheetError } from '../errors/index.ts';
import type { Manifest, ManifestCard, ManifestContact, ManifestPost } from '../jobs/manifest.ts';
import { trimMalloc } from '../util/malloc.ts';
import { besidePool, closePool, takePrestarted } from './beside.ts';
import type { CardFormat } from './config.ts';
import { contactSheetPath, listContactSheets, writeContactSheets } from './contact.ts';
import { collectPast, fullGc } from './gc.ts';
import { type CardPlan, planCards } from './plan.ts';
import type { CardPool } from './pool.ts';
import { pruneStaleCards } from './prune.ts';
import type { BatchResult, CardTask, CardTaskResult } from './worker.ts';
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
  return (await startCards(edition, ctx, opts)).done();
}

/** A card stage that has been planned and may already be drawing (startCards). */
export interface CardsRun {
  /** True when the cards are being drawn in a worker thread already. */
  beside: boolean;
  /** The stage's result: drawn now (or, when `beside`, awaited). Call once. */
  done(): Promise<CardsResult>;
}

/**
 * renderCards in two steps, for a build that has other work for the main
 * thread (the digest). The plan is made first (photo crops, input hashes,
 * captions). With `beside`, a small batch — fewer than cards.poolThreshold to
 * draw, a one-article rebuild's six — starts drawing at once in one worker
 * thread, which also writes the contact sheets, while the caller goes on; a
 * full edition, or cards.workers 0, is drawn only when done() is called, as
 * renderCards always did. One-article rebuild of the sample (dist, 2 cores):
 * the digest's 1.8 s and the cards' and sheets' 2.4 s now overlap
 * (docs/performance-start-rebuild.md).
 */
export async function startCards(
  edition: Edition,
  ctx: Context,
  opts: RenderCardsOptions & { beside?: boolean },
): Promise<CardsRun> {
  const cfg = ctx.config.cards;
  const besideAllowed = opts.beside === true && (opts.workers ?? cfg.workers) !== 0;
  // A rebuild (the last build's cards are known) most often redraws a few:
  // its worker starts at the first card found to draw (if the command has not
  // started it already, beside.ts), and parses its fonts while the rest of
  // the plan is made; it is closed unused if the plan turns out a full
  // edition. An unchanged rebuild starts none.
  let early = takePrestarted();
  const onFirstTodo = () => {
    if (early || !besideAllowed || !opts.previous?.length) return;
    early = besidePool(ctx.paths.out);
    early.catch(() => {}); // awaited below, where a failure is thrown
  };
  let plan: CardPlan;
  try {
    plan = await planCards(edition, ctx, { ...opts, onFirstTodo });
  } catch (err) {
    await closePool(early);
    throw err;
  }
  const n = plan.todo.length;
  if (besideAllowed && n > 0 && n < cfg.poolThreshold) {
    const running = drawCards(plan, ctx, opts, await (early ?? besidePool(ctx.paths.out)));
    running.catch(() => {}); // reported by done(); never an unhandled rejection meanwhile
    return { beside: true, done: () => running };
  }
  await closePool(early);
  return { beside: false, done: () => drawCards(plan, ctx, opts) };
}

/**
 * Draw the plan's cards, prune what the edition no longer has, write the
 * contact sheets. With `beside` (a one-thread pool, closed here): the whole
 * batch and the sheets in one worker task (worker.ts `batch`); else a pool of
 * cards.workers for a full edition, or in-process.
 */
async function drawCards(
  plan: CardPlan,
  ctx: Context,
  opts: RenderCardsOptions,
  beside?: CardPool,
): Promise<CardsResult> {
  const cfg = ctx.config.cards;
  const { items, cards, todo, posts, failures, kept } = plan;
  // Manifest order: the edition's order, not completion order.
  const order = new Map<string, number>(
    items.flatMap((it, i) => cfg.formats.map((f, j): [string, number] => [`${it.itemId}/${f}`, i * 100 + j])),
  );
  const byOrder = (a: ManifestCard, b: ManifestCard) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0);
  // Contact sheets: redrawn when any card was, or when one is missing.
  const sheetsMissing = cfg.formats.some((f) => !existsSync(join(opts.editionDir, contactSheetPath(f))));
  const wantSheets = cfg.contactSheets && (todo.length > 0 || sheetsMissing);
  let sheets: string[] | undefined;
  let sheetsError: Error | undefined;

  if (todo.length) {
    const started = performance.now();
    let workers = 0;
    if (beside) {
      workers = 1;
      ({ sheets, sheetsError } = await drawBeside(plan, beside, {
        editionDir: opts.editionDir,
        formats: cfg.formats,
        sheets: wantSheets,
        order: [...cards, ...todo.map((t) => t.card)].sort(byOrder),
      }));
    } else {
      workers = await drawHere(plan, cfg, opts);
    }
    ctx.logger.info(
      {
        rendered: cards.length - kept,
        kept,
        failed: failures.filter((f) => f.format).length,
        workers,
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

  cards.sort(byOrder);
  if (wantSheets) {
    if (sheetsError) throw sheetsError;
    sheets ??= await writeContactSheets(opts.editionDir, cards, cfg.formats);
    ctx.logger.info({ sheets: sheets.length }, 'contact sheets written');
  }
  // Listed only for formats that have cards: a sheet left from an older edition shape is not offered.
  const drawn = cfg.formats.filter((f) => cards.some((c) => c.format === f));
  const contact = cfg.contactSheets ? await listContactSheets(opts.editionDir, drawn) : [];
  return { cards, contact, posts, failures };
}

/** A drawn card into the plan's cards, or its failure into the plan's failures. */
function settle(plan: CardPlan, card: ManifestCard, r: { sha256: string } | Error): void {
  if (!(r instanceof Error)) {
    plan.cards.push({ ...card, sha256: r.sha256 });
    return;
  }
  const code = isBroadsheetError(r) ? r.code : 'CARD_RENDER';
  plan.failures.push({ itemId: card.itemId, format: card.format, code, message: r.message });
}

/** An error a worker sent back as data (worker.ts), thrown again here with its catalog code. */
const thrown = (f: { failed?: { code: string; params: Record<string, unknown> }; error?: string }): Error =>
  f.failed ? new BroadsheetError(f.failed.code as never, f.failed.params as never) : new Error(f.error);

/**
 * The batch in one worker task, sheets included: their paths, or undefined
 * when not asked for, or the error that stopped them (thrown by the caller
 * where writing them here would have thrown). A worker that dies fails every
 * card of the batch, as a pool worker's death fails its cards.
 */
async function drawBeside(
  plan: CardPlan,
  pool: CardPool,
  o: { editionDir: string; formats: readonly CardFormat[]; sheets: boolean; order: ManifestCard[] },
): Promise<{ sheets?: string[]; sheetsError?: Error }> {
  try {
    const out = await pool
      .batch({
        tasks: plan.todo.map(({ card, task }) => ({ id: card.id, task })),
        ...(o.sheets && { sheets: { editionDir: o.editionDir, formats: o.formats, order: o.order } }),
      })
      .catch(
        (err: Error): BatchResult => ({
          results: plan.todo.map((t) => ({ id: t.card.id, error: err.message })),
        }),
      );
    const byId = new Map(out.results.map((r) => [r.id, r]));
    for (const { card } of plan.todo) {
      const r = byId.get(card.id);
      settle(plan, card, r?.ok ?? thrown(r ?? { error: 'not drawn' }));
    }
    return { sheets: out.sheets, sheetsError: out.sheetsFailed && thrown(out.sheetsFailed) };
  } finally {
    await pool.close();
  }
}

/** The batch in a pool of cards.workers (a full edition), else in-process; the worker count used. */
async function drawHere(plan: CardPlan, cfg: Context['config']['cards'], opts: RenderCardsOptions) {
  const { todo } = plan;
  const workers = opts.workers ?? (cfg.workers === 'auto' ? autoWorkers() : cfg.workers);
  const usePool = workers >= 2 && todo.length >= cfg.poolThreshold;
  let pool: CardPool | undefined;
  let run: (t: CardTask) => Promise<CardTaskResult>;
  // In-process, the glyphs rasterized here go into the store at the end (a pool's workers write theirs as it closes).
  let flushHere: (() => void) | undefined;
  if (usePool) {
    const { createCardPool } = await import('./pool.ts');
    pool = createCardPool(workers);
    run = pool.run;
  } else {
    const here = await import('./worker.ts');
    run = here.renderToFile;
    flushHere = here.flush;
  }
  // Drawn format by format (the manifest is put back in edition order):
  // consecutive cards of one size reuse the pixel and row buffers (render.ts,
  // png.ts keep two), where item by item every card of the six sizes took
  // fresh ones (page faults on first touch, and GC), and one format's glyph
  // sizes stay together in the glyph cache.
  const rank = new Map<string, number>(cfg.formats.map((f, i) => [f, i]));
  todo.sort((a, b) => (rank.get(a.card.format) ?? 0) - (rank.get(b.card.format) ?? 0));
  const bar = await progressBar(opts.progress ?? Boolean(process.stderr.isTTY), todo.length);
  try {
    // In-process: one at a time (satori is synchronous JS anyway). Pool: all queued.
    const one = async ({ card, task }: (typeof todo)[number]) => {
      try {
        settle(plan, card, await run(task));
      } catch (err) {
        settle(plan, card, err instanceof Error ? err : new Error(String(err)));
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
    flushHere?.();
    await pool?.close();
  }
  // The cards' garbage (and the native pixmaps it holds) goes before the
  // contact sheets allocate: see gc.ts. One collection, ~0.1 s: not worth
  // it after a handful of cards (a one-article rebuild draws 6), where the
  // freed malloc pages are handed back without it.
  if (todo.length >= 24) fullGc({ trim: true });
  else trimMalloc();
  return pool ? workers : 0;
}

async function progressBar(enabled: boolean, total: number) {
  if (!enabled) return undefined;
  const { progressBar: bar } = await import('../progress.ts');
  const b = bar('cards', total);
  let done = 0;
  return { increment: () => b.update(++done), stop: b.stop };
}
