import { afterEach, describe, expect, it } from 'vitest';
import { CAP, capHeld, capOptimizedBytecode } from '../../src/cards/jit.ts';
import { createCardPool } from '../../src/cards/pool.ts';

// While a card pool is open, TurboFan leaves functions above CAP bytes of
// bytecode alone (src/cards/jit.ts); the value before comes back when the last
// pool closes. What this buys is measured by bench/cards.ts (the pool's
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
    expect(set).toEqual([`--max-optimized-bytecode-size=${CAP}`]);
    expect(capHeld()).toBe(true);
    a();
    a(); // a second release of the same holder changes nothing
    expect(set).toHaveLength(1);
    expect(capHeld()).toBe(true);
    b();
    expect(set).toEqual([`--max-optimized-bytecode-size=${CAP}`, '--max-optimized-bytecode-size=61440']);
    expect(capHeld()).toBe(false);
  });

  it('leaves a process started with its own --max-optimized-bytecode-size alone', () => {
    process.env.NODE_OPTIONS = '--max-optimized-bytecode-size=30000';
    const set: string[] = [];
    const release = capOptimizedBytecode((f) => set.push(f));
    expect(capHeld()).toBe(false);
    release();
    expect(set).toEqual([]);
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
