import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { BroadsheetError } from '../errors/index.ts';
import type { CardTask, CardTaskFailure, CardTaskResult } from './worker.ts';

/**
 * A worker pool for a full edition; `size` defaults to the CPUs.
 *
 * Two cards in flight per worker: a card's file is written with an fsync
 * (writeFileAtomic), and while one card waits on the disk the worker draws the
 * next, so the CPU is not idle between cards. More would only hold more pixel
 * buffers: drawing itself is synchronous.
 */
export function createCardPool(size = availableParallelism()) {
  const pool = new Piscina<CardTask, CardTaskResult | CardTaskFailure>({
    filename: new URL('./worker.mjs', import.meta.url).href,
    minThreads: size,
    maxThreads: size,
    concurrentTasksPerWorker: 2,
    idleTimeout: 1_000,
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
