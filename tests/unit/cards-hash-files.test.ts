import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RENDERER_FILES } from '../../src/cards/hash.ts';

// A card's inputHash covers the renderer's own source (src/cards/hash.ts,
// RENDERER_FILES), so a build after an upgrade redraws what the new code
// would draw differently. The list is kept by hand: this walks render.ts's
// imports (values, not types) and fails when a module it reaches is neither
// listed nor named below as one that cannot change a pixel.

const CARDS = join(import.meta.dirname, '../../src/cards');
// Reached from render.ts, yet no pixel depends on them.
const NOT_PIXELS = new Set([
  'config.ts', // the config schema and the renderer's name (the name is in the hash itself)
  'gc.ts', // V8's pretenuring flag (render.ts sets it): when objects die, not what is drawn
  '../util/malloc.ts', // gc.ts's malloc_trim
  'v8-flags.ts', // whether the operator gave a V8 flag (gc.ts)
]);

function imports(file: string): string[] {
  const src = readFileSync(join(CARDS, file), 'utf8');
  return Array.from(src.matchAll(/^import (?!type\b)[^;]*?from '(\.[^']+)'/gms), (m) =>
    relative(CARDS, normalize(join(dirname(join(CARDS, file)), m[1]!))),
  );
}

describe('inputHash covers the renderer', () => {
  it('lists every module render.ts draws with', () => {
    const seen = new Set<string>();
    const stack = ['render.ts'];
    while (stack.length) {
      const f = stack.pop()!;
      if (seen.has(f) || f.startsWith('../errors/')) continue; // messages, not pixels
      seen.add(f);
      stack.push(...imports(f));
    }
    const missing = [...seen].filter((f) => !RENDERER_FILES.includes(f) && !NOT_PIXELS.has(f));
    expect(missing).toEqual([]);
    // And the list names only files that exist (a renamed module would drop out silently).
    for (const f of RENDERER_FILES) expect(() => readFileSync(join(CARDS, f))).not.toThrow();
    expect(seen.has('glyph-fill.ts')).toBe(true);
  });
});
