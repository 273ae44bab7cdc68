import { afterEach, describe, expect, it } from 'vitest';
import { stopPretenuring } from '../../src/cards/gc.ts';

// The card code turns V8's allocation-site pretenuring off when it loads
// (src/cards/gc.ts): a card's objects live about one card, and pretenured
// they died in the old generation. What that buys is measured by
// bench/cards.ts (GC ms a card); here, that the flag is set, and that a
// process started with either form of it keeps what it was given.

const savedNodeOptions = process.env.NODE_OPTIONS;
const savedExecArgv = [...process.execArgv];
afterEach(() => {
  if (savedNodeOptions === undefined) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = savedNodeOptions;
  process.execArgv.splice(0, process.execArgv.length, ...savedExecArgv);
});

describe('stopPretenuring', () => {
  it('turns pretenuring off', () => {
    delete process.env.NODE_OPTIONS;
    const set: string[] = [];
    expect(stopPretenuring((f) => set.push(f))).toBe(true);
    expect(set).toEqual(['--no-allocation-site-pretenuring']);
  });

  it.each([
    ['NODE_OPTIONS', '--allocation-site-pretenuring'],
    ['NODE_OPTIONS', '--max-old-space-size=512 --no-allocation_site_pretenuring'],
    ['execArgv', '--allocation-site-pretenuring'],
    ['execArgv', '--no-allocation-site-pretenuring'],
  ])('leaves it as the process was started (%s %s)', (where, flags) => {
    delete process.env.NODE_OPTIONS;
    if (where === 'NODE_OPTIONS') process.env.NODE_OPTIONS = flags;
    else process.execArgv.push(flags);
    const set: string[] = [];
    expect(stopPretenuring((f) => set.push(f))).toBe(false);
    expect(set).toEqual([]);
  });

  it('is not fooled by a flag that only starts the same', () => {
    process.env.NODE_OPTIONS = '--allocation-site-pretenuring-something';
    const set: string[] = [];
    expect(stopPretenuring((f) => set.push(f))).toBe(true);
    expect(set).toEqual(['--no-allocation-site-pretenuring']);
  });
});
