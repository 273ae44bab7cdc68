import { afterEach, describe, expect, it } from 'vitest';
import { BUDGET, CAP, capHeld, capOptimizedBytecode } from '../../src/cards/jit.ts';
import { createCardPool } from '../../src/cards/pool.ts';

// While a card pool is open, TurboFan leaves functions above CAP bytes of
// bytecode alone and functions tier up after BUDGET bytes of bytecode run
// (src/cards/jit.ts); V8's defaults come back when the last pool closes. What this buys is measured by bench/cards.ts (the pool's
// cards/s); here, that the pool holds the cap exactly as long as it is open,
// and that nested holders and a flag the operator set are respected.

const savedNodeOptions = process.env.NODE_OPTIONS;
afterEach(() => {
  if (savedNodeOptions === undefined) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = savedNodeOptions;
});

describe('capOptimizedBytecode', () => {
  it('sets the cap for the first holder only and puts V8’s default back after the last', () => {
    const set: string[] = [];
    const a = capOptimizedBytecode((f) => set.push(f));
    const b = capOptimizedBytecode((f) => set.push(f));
    const pool = [`--max-optimized-bytecode-size=${CAP}`, `--interrupt-budget=${BUDGET}`];
    expect(set).toEqual(pool);
    expect(capHeld()).toBe(true);
    a();
    a(); // a second release of the same holder changes nothing
    expect(set).toHaveLength(2);
    expect(capHeld()).toBe(true);
    b();
    expect(set).toEqual([...pool, '--max-optimized-bytecode-size=61440', '--interrupt-budget=67584']);
    expect(capHeld()).toBe(false);
  });

  it('leaves a flag the process was started with alone', () => {
    process.env.NODE_OPTIONS = '--max-optimized-bytecode-size=30000';
    const set: string[] = [];
    const release = capOptimizedBytecode((f) => set.push(f));
    expect(capHeld()).toBe(true);
    release();
    expect(set).toEqual([`--interrupt-budget=${BUDGET}`, '--interrupt-budget=67584']);
    process.env.NODE_OPTIONS = '--max-optimized-bytecode-size=30000 --interrupt-budget=100000';
    const none: string[] = [];
    capOptimizedBytecode((f) => none.push(f))();
    expect(none).toEqual([]);
    expect(capHeld()).toBe(false);
  });
});

describe('the card pool', () => {
  it('holds the cap while open and releases it when closed', async () => {
    expect(capHeld()).toBe(false);
    const pool = createCardPool(1);
    try {
      expect(capHeld()).toBe(true);
    } finally {
      await pool.close();
    }
    expect(capHeld()).toBe(false);
  });
});
