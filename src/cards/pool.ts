import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { BroadsheetError } from '../errors/index.ts';
import type { CardTask, CardTaskFailure, CardTaskResult } from './worker.ts';

/** Cards in flight per worker (see createCardPool). */
const PER_WORKER = 2;
/** Cards a worker draws before it is replaced by a fresh one (see createCardPool). */
export const RECYCLE_AFTER = 50;

/**
 * A worker pool for a full edition; `size` defaults to the CPUs.
 *
 * Two cards in flight per worker: a card's file is written with an fsync
 * (writeFileAtomic), and while one card waits on the disk the worker draws the
 * next, so the CPU is not idle between cards. More would only hold more pixel
 * buffers: drawing itself is synchronous. Cards wait here, not in piscina's
 * queue, so that a generation can be retired.
 *
 * Workers are recycled: native and WebAssembly memory that satori, HarfBuzz and
 * resvg grow while drawing is never given back to the system (a wasm memory
 * does not shrink), so a worker's footprint climbs with every new size and
 * glyph it meets. After RECYCLE_AFTER cards per worker the pool starts a fresh
 * generation of workers and lets the old one finish its cards and exit.
 */
export function createCardPool(size = availableParallelism(), recycleAfter = RECYCLE_AFTER) {
  const start = () =>
    new Piscina<CardTask, CardTaskResult | CardTaskFailure>({
      filename: new URL('./worker.mjs', import.meta.url).href,
      minThreads: size,
      maxThreads: size,
      concurrentTasksPerWorker: PER_WORKER,
      idleTimeout: 1_000,
    });
  let pool = start();
  let given = 0; // cards handed to the current generation
  let inFlight = 0;
  const retiring: Promise<void>[] = [];
  const waiting: (() => void)[] = [];
  const capacity = size * PER_WORKER;

  const run = async (task: CardTask): Promise<CardTaskResult> => {
    // A finishing card hands its slot straight to the next waiting one.
    if (inFlight >= capacity) await new Promise<void>((r) => waiting.push(r));
    else inFlight++;
    if (given >= size * recycleAfter) {
      retiring.push(pool.close());
      pool = start();
      given = 0;
    }
    given++;
    try {
      const r = await pool.run(task);
      if ('failed' in r) throw new BroadsheetError(r.failed.code, r.failed.params as never);
      return r;
    } finally {
      const next = waiting.shift();
      if (next) next();
      else inFlight--;
    }
  };
  return {
    size,
    run,
    close: async () => {
      await Promise.all(retiring);
      await pool.destroy();
    },
  };
}
export type CardPool = ReturnType<typeof createCardPool>;
