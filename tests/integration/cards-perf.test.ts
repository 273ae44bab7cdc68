import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { CARD_KINDS, type CardKind } from '../../src/cards/config.ts';
import { editionItems } from '../../src/cards/items.ts';
import { encodePng } from '../../src/cards/png.ts';
import { createCardPool } from '../../src/cards/pool.ts';
import { type CardJob, cardPixels, renderCard } from '../../src/cards/render.ts';
import { context, edition, fixtureDir } from '../fixtures/cards/edition.ts';
import { tempDir } from '../fixtures/delivery/ctx.ts';
import { expectExactPixels, randomPixels } from '../helpers/pixels.ts';

// The PNG writer (src/cards/png.ts) and the pool's pipelining: same
// pixels as before, exactly, not within a tolerance.

const ctx = context();
const items = editionItems(edition(), {
  kinds: [...CARD_KINDS],
  contentDir: ctx.paths.content,
  brandUrl: ctx.config.brand.url,
});
const brand = { name: ctx.config.brand.name, url: ctx.config.brand.url, colors: ctx.config.brand.colors };
const jobFor = (kind: CardKind): CardJob => {
  const item = items.find((i) => i.kind === kind)!;
  return {
    id: `${item.itemId}/og`,
    kind,
    format: 'og',
    data: item.data,
    templatesDir: ctx.paths.templates,
    brand,
    pngCompression: 3,
  };
};

describe('encodePng', () => {
  it('round-trips any RGBA pixels exactly, at every level (pngjs and libvips both decode it)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer(),
        async (w, h, level, seed) => {
          const px = randomPixels(w, h, seed, { run: { value: 255, every: 7 } });
          const png = encodePng(px, w, h, level);
          await expectExactPixels(png, px, w, h);
        },
      ),
      { seed: 1616, numRuns: 40 },
    );
  });

  it('refuses pixels of the wrong size', () => {
    expect(() => encodePng(new Uint8Array(10), 2, 2, 3)).toThrow(RangeError);
  });
});

describe('og cards through the new encoder', () => {
  // The goldens themselves are checked within pixelmatch's tolerance by
  // cards-render.test.ts; here: the PNG holds exactly the pixels drawn.
  it.each(['article', 'stat', 'statset', 'quote'] as const)(
    '%s: the PNG decodes to exactly the drawn RGBA, the size of its golden',
    async (kind) => {
      const job = jobFor(kind);
      const drawn = Buffer.from((await cardPixels(job)).pixels);
      const got = PNG.sync.read((await renderCard(job)).png);
      const golden = PNG.sync.read(readFileSync(join(fixtureDir, `${kind}-og.png`)));
      expect([got.width, got.height]).toEqual([golden.width, golden.height]);
      expect(Buffer.compare(got.data, drawn)).toBe(0);
    },
  );
});

describe('card pool', () => {
  it('with two cards in flight per worker, every card comes back, identical to in-process', async () => {
    const dir = tempDir('cards-perf-');
    const jobs = (['article', 'stat', 'statset', 'quote'] as const).flatMap((k) => [jobFor(k), jobFor(k)]);
    const pool = createCardPool(2);
    try {
      const got = await Promise.all(jobs.map((job, i) => pool.run({ job, file: join(dir, `${i}.png`) })));
      for (const [i, job] of jobs.entries()) {
        const { png } = await renderCard(job);
        expect(Buffer.compare(readFileSync(join(dir, `${i}.png`)), png)).toBe(0);
        expect(got[i]!.bytes).toBe(png.length);
      }
    } finally {
      await pool.close();
    }
  }, 240_000);
});
