import { existsSync } from 'node:fs';
import { Piscina } from 'piscina';
import { BroadsheetError } from '../errors/index.ts';
import { capOptimizedBytecode } from './jit.ts';
import { laneScheduler } from './lanes.ts';
import type {
  BatchResult,
  BatchTask,
  CardTask,
  CardTaskFailure,
  CardTaskResult,
  WarmTask,
} from './worker.ts';
import { autoWorkers } from './workers.ts';

/**
 * A worker pool for a full edition; `size` defaults to the CPUs.
 *
 * One single-thread Piscina a worker, fed by lanes.ts: each worker keeps to
 * one format while it has cards left, so a format's glyphs are rasterized by
 * one worker, not by every one.
 *
 * Two cards in flight per worker: a card's file is written with an fsync
 * (writeFileAtomic), and while one card waits on the disk the worker draws the
 * next, so the CPU is not idle between cards. More would only hold more pixel
 * buffers: drawing itself is synchronous.
 */
export function createCardPool(size = autoWorkers() || 2) {
  // Satori's largest functions stay in baseline code while the pool runs (jit.ts).
  const releaseJit = capOptimizedBytecode();
  const workers = Array.from(
    { length: Math.max(1, size) },
    () =>
      new Piscina<CardTask | BatchTask, CardTaskResult | CardTaskFailure | BatchResult>({
        filename: workerEntry(),
        minThreads: 1,
        maxThreads: 1,
        concurrentTasksPerWorker: 2,
        idleTimeout: 1_000,
        // Only the young generation is sized (48 MB). A capped old generation
        // (maxOldGenerationSizeMb 192, as before) makes V8 grow the heap by a
        // small factor after each major GC, so it ran one every card or two: the
        // worker spent ~1.7× the CPU per card. The worker instead collects past a
        // cap on its old generation between cards (worker.ts, gc.ts), as
        // in-process drawing does: lower peak RSS than the old-generation limit,
        // measured in docs/performance-cards.md ("Pool: GC"). 48 MB, not 16 as
        // until stop 27: a card allocates ~3 MB and much of it is still live
        // when a scavenge comes mid-card (~7 ms each), so fewer scavenges pay.
        // Pool bench, 2 workers, alternating, 3 runs each: 71–73 → 76–78
        // cards/s, peak RSS +20–35 MB; 96 MB was slower (63–71) and larger.
        resourceLimits: { maxYoungGenerationSizeMb: 48 },
      }),
  );
  const first = workers[0]!;
  // Workers given cards (run, batch): only they have glyphs to write when the pool closes.
  const drew = new Set<Piscina<CardTask | BatchTask, CardTaskResult | CardTaskFailure | BatchResult>>();
  const lanes = laneScheduler<CardTask, CardTaskResult | CardTaskFailure>(
    workers.map((w) => ({
      run: (t) => {
        drew.add(w);
        return w.run(t) as Promise<CardTaskResult | CardTaskFailure>;
      },
      capacity: 2,
    })),
    (t) => t.job.format,
  );
  return {
    size,
    run: async (task: CardTask): Promise<CardTaskResult> => {
      const r = await lanes.run(task);
      if ('failed' in r) throw new BroadsheetError(r.failed.code, r.failed.params as never);
      return r;
    },
    /** Ahead of the first card, in the first worker (worker.ts `warm`): fonts and the glyph store. */
    warm: (o: WarmTask = {}) =>
      first.run(o as unknown as CardTask, { name: 'warm' }) as Promise<unknown> as Promise<void>,
    /** A whole batch, and the contact sheets, in one worker task (worker.ts `batch`), in the first worker. */
    batch: async (task: BatchTask): Promise<BatchResult> => {
      drew.add(first);
      return (await first.run(task, { name: 'batch' })) as BatchResult;
    },
    close: async () => {
      lanes.cancel(new Error('the card pool was closed before this card was drawn'));
      try {
        // The new glyphs of each worker that drew into the store (worker.ts
        // `flush`). Bounded: a worker that died is started again for it, and
        // has none to give; one that never drew (a prestarted beside worker
        // closed unused) is not waited for.
        await Promise.all(
          [...drew].map((w) =>
            w
              .run({} as CardTask, { name: 'flush', signal: AbortSignal.timeout(FLUSH_MS) })
              .catch(() => undefined),
          ),
        );
        await Promise.all(workers.map((w) => w.destroy()));
      } finally {
        releaseJit();
      }
    },
  };
}
export type CardPool = ReturnType<typeof createCardPool>;

/** How long a closing pool waits for a worker to write its glyphs (a few MB at most). */
const FLUSH_MS = 10_000;

/**
 * The worker's module: the compiled one (dist/card-worker.js, built with the
 * CLI) when this process runs the compiled CLI, whose stamp bin/broadsheet.js
 * has just checked; else src/cards/worker.mjs, which loads the TypeScript
 * through tsx (tests, BROADSHEET_RUNTIME=tsx, an edited checkout). Through tsx
 * a worker compiled every card module on start: ~0.5 s of a one-article
 * rebuild's beside worker.
 */
function workerEntry(): string {
  if (globalThis.__broadsheetBuild) {
    const compiled = new URL('../../dist/card-worker.js', import.meta.url);
    if (existsSync(compiled)) return compiled.href;
  }
  return new URL('./worker.mjs', import.meta.url).href;
}
