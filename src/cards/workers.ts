import { availableParallelism } from 'node:os';

// Kept apart from pool.ts so that choosing the worker count does not load piscina.

/**
 * Worker threads for cards.workers 'auto': the CPUs, except on a machine with
 * two or fewer, where it is 0 (draw in-process). Each worker holds its own
 * parsed fonts, glyph cache and heap (~300 MB), and on 2 cores the main thread
 * competes with the workers for the same cores: measured on the sample edition
 * (234 cards, same run), in-process took 44–55 s against 67 s with 2 workers,
 * at 741 MB peak RSS against 862 MB (bench/memory.ts, docs/performance-cards.md).
 */
export function autoWorkers(cpus = availableParallelism()): number {
  return cpus <= 2 ? 0 : cpus;
}
