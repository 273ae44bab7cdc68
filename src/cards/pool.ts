import { Piscina } from 'piscina';
import { BroadsheetError } from '../errors/index.ts';
import type { CardTask, CardTaskFailure, CardTaskResult } from './worker.ts';
import { autoWorkers } from './workers.ts';

/**
 * A worker pool for a full edition; `size` defaults to the CPUs.
 *
 * Two cards in flight per worker: a card's file is written with an fsync
 * (writeFileAtomic), and while one card waits on the disk the worker draws the
 * next, so the CPU is not idle between cards. More would only hold more pixel
 * buffers: drawing itself is synchronous.
 */
export function createCardPool(size = autoWorkers() || 2) {
  const pool = new Piscina<CardTask, CardTaskResult | CardTaskFailure>({
    filename: new URL('./worker.mjs', import.meta.url).href,
    minThreads: size,
    maxThreads: size,
    concurrentTasksPerWorker: 2,
    idleTimeout: 1_000,
    // Only the young generation is capped (16 MB: fewer, smaller semi-spaces).
    // A capped old generation (maxOldGenerationSizeMb 192, as before) makes V8
    // grow the heap by a small factor after each major GC, so it ran one every
    // card or two: the worker spent ~1.7× the CPU per card. The worker instead
    // collects past a heap cap between cards, as in-process drawing does
    // (worker.ts, gc.ts): lower peak RSS than the old-generation cap, measured
    // in docs/performance-cards.md ("Pool: GC").
    resourceLimits: { maxYoungGenerationSizeMb: 16 },
  });
  return {
    size,
    run: async (task: CardTask): Promise<CardTaskResult> => {
      const r = await pool.run(task);
      if ('failed' in r) throw new BroadsheetError(r.failed.code, r.failed.params as never);
      return r;
    },
    close: () => pool.destroy(),
  };
}
export type CardPool = ReturnType<typeof createCardPool>;
