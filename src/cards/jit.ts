import { setFlagsFromString } from 'node:v8';

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
// V8's flags are per process: the main thread runs capped too while the pool
// is open (it mostly waits on the workers). The value before is put back when
// the last pool closes. A process started with its own
// --max-optimized-bytecode-size (argv or NODE_OPTIONS) is left alone.

/** Bytecode bytes above which a function is not optimized while a pool runs. */
export const CAP = 6000;
/** V8's own default (node --v8-options), restored after the last pool. */
const V8_DEFAULT = 61_440;
const FLAG = '--max-optimized-bytecode-size';

let holders = 0;

const setByUser = () =>
  process.execArgv.some((a) => a.startsWith(FLAG)) || (process.env.NODE_OPTIONS ?? '').includes(FLAG);

/** Whether a cap is in force (a pool is open). */
export const capHeld = (): boolean => holders > 0;

/** Caps TurboFan's function size until the returned release is called (once per pool; nested pools count). */
export function capOptimizedBytecode(set: (flags: string) => void = setFlagsFromString): () => void {
  if (setByUser()) return () => {};
  if (holders++ === 0) set(`${FLAG}=${CAP}`);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0) set(`${FLAG}=${V8_DEFAULT}`);
  };
}
