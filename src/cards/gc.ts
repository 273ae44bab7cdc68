import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { trimMalloc } from '../util/malloc.ts';
import { givenAtStart } from './v8-flags.ts';

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
/** V8's used heap right after the last collection made here: the live set, roughly. */
let liveAfterLast = 0;

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
  liveAfterLast = getHeapStatistics().used_heap_size;
  if (opts.trim) trimMalloc();
}

/**
 * A full collection when V8's heap (committed) has grown past `capMb` and at
 * least `slackMb` has been allocated on top of what the last one left. Called
 * between cards: V8 alone let the heap reach ~190 MB for ~60 MB live, the
 * garbage holding resvg's native pixmaps besides. The slack matters once the
 * live set itself nears the cap: a build keeps ~88 MB live (fonts, glyph
 * cache, the digest's modules) in a ~131 MB heap, and a cap alone then ran a
 * full collection after every card (216 for the sample's 234, 30–110 ms each,
 * ~4 MB freed each time); with 12 MB of slack (and a 112 MB cap) it ran 37 (docs/performance-memory.md).
 */
export function collectPast(capMb: number, slackMb = 12, opts: { oldGeneration?: boolean } = {}): boolean {
  const { total_heap_size, used_heap_size } = opts.oldGeneration ? oldGeneration() : getHeapStatistics();
  if (!(capMb > 0) || total_heap_size < capMb * MB) return false;
  if (used_heap_size < liveAfterLast + slackMb * MB) return false;
  fullGc();
  return true;
}

const MB = 1024 * 1024;

// Pretenuring (issue 16: the warm og card). V8 watches each allocation site
// and, once enough of a site's objects survive a scavenge, allocates that
// site's objects straight into the old generation. A card's objects live
// about one card: those caught alive by a scavenge (a card is always in
// flight) made satori's style expansion and element generator look
// long-lived, so V8 pretenured them; they then died in the old generation,
// where each scavenge has to walk their pointers into the young one and only
// a full collection frees them. Sampled (.probe: HeapProfiler sampling that
// keeps what scavenges did not free, 390 og cards): 377 KB a card reached the
// old generation, 143 KB of it from satori's style expansion alone.
// Measured (og cards in-process, 15 rounds of 39, separate processes
// alternating, same hour; docs/performance-cards.md, stop 39): GC 0.78–0.87
// → 0.50–0.59 ms a card, CPU 8.8–9.9 → 8.0–8.8 ms, wall 7.5–8.6 → 6.9–7.7 ms;
// the pool and a build's peak RSS unchanged. Set when the card code loads
// (render.ts), for the whole process (V8's flags are per process: a daemon
// that builds and sends runs its send without it too), unless the process
// was started with either form of the flag.
/** Turns V8's allocation-site pretenuring off, unless argv or NODE_OPTIONS already says either way. */
export function stopPretenuring(set: (flags: string) => void = setFlagsFromString): boolean {
  if (givenAtStart('allocation-site-pretenuring')) return false;
  set('--no-allocation-site-pretenuring');
  return true;
}

/**
 * The heap without its young generation (V8's 'new_space' and
 * 'new_large_object_space'): for a pool worker, whose semi-spaces (pool.ts)
 * would otherwise count against its cap.
 */
function oldGeneration(): { total_heap_size: number; used_heap_size: number } {
  let total_heap_size = 0;
  let used_heap_size = 0;
  for (const s of getHeapSpaceStatistics()) {
    if (s.space_name.startsWith('new_')) continue;
    total_heap_size += s.space_size;
    used_heap_size += s.space_used_size;
  }
  return { total_heap_size, used_heap_size };
}
