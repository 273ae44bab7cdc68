import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { CardTask, CardTaskResult } from './worker.ts';

/** A worker pool for a full edition; `size` defaults to the CPUs. */
export function createCardPool(size = availableParallelism()) {
  const pool = new Piscina<CardTask, CardTaskResult>({
    filename: new URL('./worker.mjs', import.meta.url).href,
    minThreads: size,
    maxThreads: size,
    idleTimeout: 1_000,
  });
  return {
    size,
    run: (task: CardTask) => pool.run(task),
    close: () => pool.destroy(),
  };
}
export type CardPool = ReturnType<typeof createCardPool>;
