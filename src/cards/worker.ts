import { createHash } from 'node:crypto';
import { type ErrorCode, isBroadsheetError } from '../errors/index.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { collectPast } from './gc.ts';
import { type CardJob, renderCard } from './render.ts';

// One card in, one PNG written (atomically) out. Used by pool workers and by
// the in-process path alike, so both behave the same. The PNG never crosses
// the thread boundary: only its hash comes back.

export interface CardTask {
  job: CardJob;
  file: string;
}

export interface CardTaskResult {
  sha256: string;
  width: number;
  height: number;
  bytes: number;
}

export async function renderToFile(task: CardTask): Promise<CardTaskResult> {
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
    collectPast(WORKER_HEAP_CAP_MB);
  }
}

/**
 * A pool worker's heap cap between cards (the in-process path's HEAP_CAP_MB in
 * index.ts): a full GC once V8's committed heap passes it, so resvg's native
 * pixmaps held by garbage go without capping the old generation.
 */
export const WORKER_HEAP_CAP_MB = 128;
