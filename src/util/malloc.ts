import { createRequire } from 'node:module';

// glibc's allocator, tuned at run time for the rendering stages (issue 16).
//
// What a card build holds outside V8 is mostly glibc malloc: resvg's trees and
// pixmaps, libvips' photo crops and thumbnails (on libuv's and libvips' own
// threads), zlib. By default glibc gives each thread that contends for the
// heap an arena of its own (up to 8 per core) and raises its mmap threshold to
// the largest block freed (a card's 3–8 MB pixel buffer), so those buffers
// land in the heaps too; freed memory then stays in each arena as
// fragmentation. Measured on the sample build (docs/performance-cards.md):
// started with MALLOC_ARENA_MAX=2 and MALLOC_MMAP_THRESHOLD_=262144 it peaked
// ~80 MB lower. Those variables only work when set before the process
// starts, so the same settings are made here with mallopt(3), and
// malloc_trim(3) hands freed pages back after each full garbage collection.
//
// Through koffi (a maintained FFI with prebuilt binaries): no addon to
// compile. Where there is no glibc (musl, macOS, Windows) or koffi cannot
// load, every call here does nothing. A variable the operator set wins.

const M_MMAP_THRESHOLD = -3;
const M_ARENA_MAX = -8;

interface Libc {
  mallopt(param: number, value: number): number;
  malloc_trim(pad: number): number;
}

let libc: Libc | null | undefined;

function load(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (process.platform !== 'linux' || process.env.BROADSHEET_MALLOC === 'off') return libc;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const lib = koffi.load('libc.so.6');
    libc = {
      mallopt: lib.func('int mallopt(int, int)') as Libc['mallopt'],
      malloc_trim: lib.func('int malloc_trim(size_t)') as Libc['malloc_trim'],
    };
  } catch {
    // musl, no koffi prebuild for this platform: glibc's defaults stay.
  }
  return libc;
}

let tuned = false;

/**
 * At most two malloc arenas and a fixed 256 KB mmap threshold (big pixel
 * buffers are mapped and unmapped, not left in a heap), unless the process
 * was started with MALLOC_ARENA_MAX / MALLOC_MMAP_THRESHOLD_ set. Call before
 * the rendering stages start their threads; later calls do nothing.
 */
export function tuneMalloc(): boolean {
  if (tuned) return libc != null;
  tuned = true;
  const c = load();
  if (!c) return false;
  if (process.env.MALLOC_ARENA_MAX === undefined) c.mallopt(M_ARENA_MAX, 2);
  if (process.env.MALLOC_MMAP_THRESHOLD_ === undefined) c.mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  return true;
}

/** Return the free pages of every malloc arena to the system (a few ms). */
export function trimMalloc(): void {
  if (tuned) libc?.malloc_trim(0);
}
