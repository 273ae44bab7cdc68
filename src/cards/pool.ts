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
    // V8 does not see resvg's native memory (glyph and page pixmaps held until
    // their JS wrappers are collected), so with the default limits a worker's
    // heap grew to ~150 MB of garbage before a major GC; a smaller old
    // generation collects sooner (sample build, 2 workers: 858 → 731 MB peak).
    // The live set of a worker is ~60 MB; 192 leaves room for the fallback face.
    resourceLimits: { maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 16 },
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
