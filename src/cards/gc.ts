import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { trimMalloc } from '../util/malloc.ts';

// Memory the garbage collector does not see (issue 16). resvg-js keeps each
// Resvg tree and RenderedImage pixmap in native memory until its JS wrapper is
// collected (its napi binding has no free()), and V8 sizes its heap by what it
// sees: during a card build the old generation grew to ~190 MB for ~60 MB
// live before a major GC ran, and the garbage still there when the contact
// sheets began (libvips' own allocations on top) made the build's peak.
//
// Two measured remedies, both for the card stage only (docs/performance-cards.md):
// - drawing in-process, a full collection between cards once V8's heap has
//   passed a cap (collectPast), so garbage goes sooner;
// - one full collection when the cards are drawn, before the contact sheets.
// A tighter heap-growing factor (--heap-growing-percent, set at run time) did
// about as much for memory but cost 13-30 % of the build's time: not kept.

let gcFn: (() => void) | null | undefined;

/**
 * A full, synchronous garbage collection (no-op where V8 refuses to expose one).
 * With `trim`, the malloc pages it freed (resvg's pixmaps die with their
 * wrappers) are handed back to the system too (src/util/malloc.ts): for stage
 * boundaries, not between cards, where malloc_trim's walk over the heaps
 * cost more than it returned.
 */
export function fullGc(opts: { trim?: boolean } = {}): void {
  if (gcFn === undefined) {
    try {
      // A fresh context gets the `gc` global once the flag is on; the flag
      // then stays on for contexts created later, which changes nothing else.
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = null;
    }
  }
  gcFn?.();
  if (opts.trim) trimMalloc();
}

/**
 * A full collection when V8's heap (committed) has grown past `capMb`. Called
 * between cards drawn in-process: V8 alone let the heap reach ~190 MB for
 * ~60 MB live, the garbage holding resvg's native pixmaps besides.
 */
export function collectPast(capMb: number): boolean {
  if (!(capMb > 0) || getHeapStatistics().total_heap_size < capMb * 1024 * 1024) return false;
  fullGc();
  return true;
}
