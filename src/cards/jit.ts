import { setFlagsFromString } from 'node:v8';
import { givenAtStart } from './v8-flags.ts';

// TurboFan and the card workers (issue 16: pool throughput).
//
// A pool worker is a fresh V8 isolate: it compiles everything again. Satori's
// largest functions (its style expansion and its element generator, 7–17 KB
// of bytecode each) are optimized by TurboFan, then deoptimized ("wrong map",
// "not a Smi") as cards of another kind or format bring new object shapes,
// then optimized again: in the pool bench's timed pass one worker compiled the
// element generator 8 times, 1.6 s of compiler threads for 234 cards, per
// worker, on the same cores the workers draw on (--trace-opt; per-thread CPU
// from /proc/self/task: V8's background threads ~3.3 s against ~1.9 s per
// worker thread, 2 workers).
//
// While a pool is open, functions above CAP bytes of bytecode are left to the
// baseline tiers. Measured (pool bench, 2 workers, same hour, 5 runs each):
// median 58 → 72 cards/s; the workers' own CPU unchanged (~1.9 s each), V8's
// background threads ~3.3 → ~1.5 s. Not for drawing in-process (2 cores or
// fewer: cards.workers 'auto' is 0): there every function is long since
// optimized and stays so, and the cap made a warm og card ~10 % slower.
//
// And while a pool is open, functions tier up later (BUDGET): what V8's
// background threads still compiled in a fresh worker was mostly code a few
// cards ran, not what stays hot over a build.
//
// V8's flags are per process: the main thread runs capped too while the pool
// is open (it mostly waits on the workers). The values before are put back when
// the last pool closes. A flag the process was started with (argv or
// NODE_OPTIONS) is left alone.

/** Bytecode bytes above which a function is not optimized while a pool runs. */
export const CAP = 6000;
/**
 * Bytecode a function runs between V8's tier-up checks while a pool runs
 * (V8's default 67,584): about 9× longer before TurboFan is asked to compile
 * it, so a fresh worker compiles what is hot over a build, not everything a
 * few cards touch. Pool bench probe (.probe, 2 workers, cold pass, with CAP
 * in both, 6–4 alternating runs): 67.2 / 69.1 → 78.5 / 75.7 cards/s;
 * 1.2M and 2.4M within the same noise.
 */
export const BUDGET = 600_000;

/** What a pool sets, and V8's own defaults (node --v8-options, Node 20's V8 11.3), restored after the last pool. */
const FLAGS = [
  { flag: '--max-optimized-bytecode-size', pool: CAP, v8Default: 61_440 },
  { flag: '--interrupt-budget', pool: BUDGET, v8Default: 67_584 },
] as const;

let holders = 0;

/** Whether a cap is in force (a pool is open). */
export const capHeld = (): boolean => holders > 0;

/** Sets the pool's flags until the returned release is called (once per pool; nested pools count). */
export function capOptimizedBytecode(set: (flags: string) => void = setFlagsFromString): () => void {
  const mine = FLAGS.filter((f) => !givenAtStart(f.flag));
  if (!mine.length) return () => {};
  if (holders++ === 0) for (const f of mine) set(`${f.flag}=${f.pool}`);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0) for (const f of mine) set(`${f.flag}=${f.v8Default}`);
  };
}
