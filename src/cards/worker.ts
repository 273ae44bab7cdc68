import { createHash } from 'node:crypto';
import { type ErrorCode, isBroadsheetError } from '../errors/index.ts';
import type { ManifestCard } from '../jobs/manifest.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import type { CardFormat } from './config.ts';
import { writeContactSheets } from './contact.ts';
import { collectPast } from './gc.ts';
import { saveGlyphStore, useGlyphStore } from './glyph-store.ts';
import { warmRaster } from './raster.ts';
import { type CardJob, renderCard, warmRenderer } from './render.ts';

// One card in, one PNG written (atomically) out. Used by pool workers and by
// the in-process path alike, so both behave the same. The PNG never crosses
// the thread boundary: only its hash comes back.

export interface CardTask {
  job: CardJob;
  file: string;
  /** The glyph store's folder (glyph-store.ts): read before the thread's first card. */
  glyphs?: string;
}

export interface CardTaskResult {
  sha256: string;
  width: number;
  height: number;
  bytes: number;
}

export async function renderToFile(task: CardTask): Promise<CardTaskResult> {
  if (task.glyphs) useGlyphStore(task.glyphs);
  const { png, width, height } = await renderCard(task.job);
  await writeFileAtomic(task.file, png);
  return { sha256: createHash('sha256').update(png).digest('hex'), width, height, bytes: png.length };
}

/** What crosses the thread boundary when a card fails with a catalog error. */
export interface CardTaskFailure {
  failed: { code: ErrorCode; params: Record<string, unknown> };
}

/**
 * The pool's entry: an error thrown in a worker reaches the main thread as a
 * structured clone, which keeps the message but drops the class and its code;
 * so a catalog error comes back as data and pool.ts throws it again, and a card
 * fails with the same code in the pool as in-process.
 */
export default async function pooled(task: CardTask): Promise<CardTaskResult | CardTaskFailure> {
  try {
    return await renderToFile(task);
  } catch (err) {
    if (isBroadsheetError(err))
      return { failed: { code: err.code, params: err.params as Record<string, unknown> } };
    throw err;
  } finally {
    collectPast(WORKER_HEAP_CAP_MB, undefined, { oldGeneration: true });
  }
}

/**
 * A small batch drawn whole in one worker (index.ts, startCards with
 * `beside`): every card, then the contact sheets, in one task, so nothing
 * waits on the main thread's event loop while it compiles the digest. `order`
 * is every card of the edition in edition order: kept ones with their sha256,
 * the batch's with ''. The sheets show the kept cards and the batch's drawn ones.
 */
export interface BatchTask {
  tasks: { id: string; task: CardTask }[];
  sheets?: { editionDir: string; formats: readonly CardFormat[]; order: ManifestCard[] };
}

type Failure = { failed?: CardTaskFailure['failed']; error?: string };

export interface BatchResult {
  results: ({ id: string; ok?: CardTaskResult } & Failure)[];
  /** The sheets written (contact.ts), when asked for. */
  sheets?: string[];
  /** Why the sheets could not be written: the main thread throws it, as writing them there would. */
  sheetsFailed?: Failure;
}

/** A thrown error as data that crosses the thread boundary (its catalog code kept). */
const asFailure = (err: unknown): Failure =>
  isBroadsheetError(err)
    ? { failed: { code: err.code, params: err.params as Record<string, unknown> } }
    : { error: err instanceof Error ? err.message : String(err) };

/** What a worker may do before its first card: read the glyph store in `glyphs`. */
export interface WarmTask {
  glyphs?: string;
}

/**
 * Piscina's `warm` task, while the main thread plans the batch: satori's and
 * HarfBuzz's fonts (render.ts warmRenderer; raster.ts warmRaster, ~0.2 s
 * taken off a one-article rebuild's six cards), the glyph store.
 */
export const warm = async (o: WarmTask = {}): Promise<void> => {
  if (o.glyphs) useGlyphStore(o.glyphs);
  await warmRenderer();
  await warmRaster();
};

/** Piscina's `flush` task, before the pool closes: the glyphs this worker rasterized, into the store. */
export const flush = (): void => saveGlyphStore();

/** Piscina's `batch` task (see BatchTask). */
export async function batch(b: BatchTask): Promise<BatchResult> {
  const results: BatchResult['results'] = [];
  for (const { id, task } of b.tasks) {
    try {
      const r = await pooled(task);
      results.push('failed' in r ? { id, failed: r.failed } : { id, ok: r });
    } catch (err) {
      results.push({ id, ...asFailure(err) });
    }
  }
  if (!b.sheets) return { results };
  const drawn = new Map(results.flatMap((r) => (r.ok ? [[r.id, r.ok.sha256] as const] : [])));
  const shown = b.sheets.order.flatMap((c) =>
    c.sha256 ? [c] : drawn.has(c.id) ? [{ ...c, sha256: drawn.get(c.id)! }] : [],
  );
  try {
    return { results, sheets: await writeContactSheets(b.sheets.editionDir, shown, b.sheets.formats) };
  } catch (err) {
    return { results, sheetsFailed: asFailure(err) };
  }
}

/**
 * A pool worker's heap cap between cards (the in-process path's HEAP_CAP_MB in
 * index.ts): a full GC once V8's committed old generation passes it, so
 * resvg's native pixmaps held by garbage go without capping the old
 * generation. The young generation (48 MB, pool.ts) is not counted: its
 * semi-spaces alone would trigger a full GC every few cards.
 */
export const WORKER_HEAP_CAP_MB = 128;
