import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';
import { isCI } from '../helpers/system.ts';

// src/util/malloc.ts sets glibc's M_ARENA_MAX and a fixed M_MMAP_THRESHOLD at
// run time (what MALLOC_ARENA_MAX / MALLOC_MMAP_THRESHOLD_ do only when set
// before the process starts). Observable through mallinfo2(): by default,
// once an 8 MB block has been mapped and freed glibc raises its mmap threshold
// to 8 MB, and the next 6 MB block is carved out of the heap (which then keeps
// it as fragmentation); tuned, the 6 MB block is mapped (and unmapped when
// freed). Each case runs in a fresh node: mallopt is process-wide.
const linux = process.platform === 'linux';
if (!linux) {
  if (isCI()) throw new Error('CI runs on Linux (glibc): malloc-tuning must run there');
  console.warn('SKIPPED: malloc tuning needs Linux with glibc (mallopt, mallinfo2)');
}

function run(env: NodeJS.ProcessEnv) {
  const malloc = pathToFileURL(join(ROOT, 'src/util/malloc.ts')).href;
  const script = `
    import { createRequire } from 'node:module';
    const { tuneMalloc, trimMalloc } = await import(${JSON.stringify(malloc)});
    const tuned = tuneMalloc();
    trimMalloc();
    const koffi = createRequire(${JSON.stringify(join(ROOT, 'package.json'))})('koffi');
    const lib = koffi.load('libc.so.6');
    const MI = koffi.struct('mallinfo2_t', { arena: 'size_t', ordblks: 'size_t', smblks: 'size_t', hblks: 'size_t',
      hblkhd: 'size_t', usmblks: 'size_t', fsmblks: 'size_t', uordblks: 'size_t', fordblks: 'size_t', keepcost: 'size_t' });
    const mallinfo2 = lib.func('mallinfo2', MI, []);
    const mb = (n) => Number(n) / 1048576;
    let b = Buffer.allocUnsafeSlow(8 << 20); b.fill(1);
    b = null; globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); globalThis.gc();
    const before = mallinfo2();
    b = Buffer.allocUnsafeSlow(6 << 20); b.fill(1);
    const after = mallinfo2();
    console.log(JSON.stringify({ tuned, mappedGrew: mb(after.hblkhd) - mb(before.hblkhd), heapGrew: mb(after.arena) - mb(before.arena) }));`;
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout.trim()) as { tuned: boolean; mappedGrew: number; heapGrew: number };
}

describe.skipIf(!linux)('malloc tuning (src/util/malloc.ts)', () => {
  it('maps a big block after a bigger one was freed, instead of keeping it in the heap', () => {
    const r = run({ BROADSHEET_MALLOC: '' });
    expect(r.tuned).toBe(true);
    expect(r.mappedGrew).toBeGreaterThanOrEqual(6);
    expect(r.heapGrew).toBeLessThan(1);
  });

  it('leaves glibc alone with BROADSHEET_MALLOC=off: the block lands in the heap', () => {
    const r = run({ BROADSHEET_MALLOC: 'off' });
    expect(r.tuned).toBe(false);
    expect(r.mappedGrew).toBeLessThan(1);
    expect(r.heapGrew).toBeGreaterThanOrEqual(5);
  });

  it('leaves the mmap threshold to the operator who set MALLOC_MMAP_THRESHOLD_', () => {
    // 16 MB: the 6 MB block is not mapped, whatever the run-time default would do.
    const r = run({ BROADSHEET_MALLOC: '', MALLOC_MMAP_THRESHOLD_: String(16 << 20) });
    expect(r.tuned).toBe(true);
    expect(r.mappedGrew).toBeLessThan(1);
  });
});
