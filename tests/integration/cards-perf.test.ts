import { cpSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { CardKind } from '../../src/cards/config.ts';
import { encodePng } from '../../src/cards/png.ts';
import { createCardPool } from '../../src/cards/pool.ts';
import { type CardJob, cardPixels, renderCard } from '../../src/cards/render.ts';
import { fixtureDir, fixtureItems } from '../fixtures/cards/edition.ts';
import { tempDir } from '../fixtures/delivery/ctx.ts';
import { expectExactPixels, randomPixels } from '../helpers/pixels.ts';

// The PNG writer (src/cards/png.ts) and the pool's pipelining: same
// pixels as before, exactly, not within a tolerance.

const { ctx, items, brand } = fixtureItems();
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

  it('a worker that dies mid-card fails that card (and at most the one beside it), not the other lane or the cards after it', async () => {
    // A layout that ends its worker thread (process.exit in a worker ends the
    // thread) for one title: the card's task is lost with the worker, Piscina
    // starts another, and lanes.ts goes on feeding it.
    const dir = tempDir('cards-pool-death-');
    const templates = join(dir, 'templates');
    cpSync(ctx.paths.templates, templates, { recursive: true });
    renameSync(join(templates, 'cards/article.ts'), join(templates, 'cards/article-real.ts'));
    writeFileSync(
      join(templates, 'cards/article.ts'),
      "import real from './article-real.ts';\n" +
        "export default (d, k) => { if (d.title === 'DIE') process.exit(3); return real(d, k); };\n",
    );
    const art = jobFor('article');
    const job = (format: CardJob['format'], title?: string): CardJob => ({
      ...art,
      id: `${title ?? 'ok'}/${format}`,
      format,
      templatesDir: templates,
      data: { ...(art.data as object), ...(title ? { title } : {}), photo: undefined } as CardJob['data'],
    });
    const pool = createCardPool(2);
    try {
      const jobs = [job('og'), job('og', 'DIE'), job('og'), job('og'), job('x'), job('x'), job('x')];
      const got = await Promise.allSettled(
        jobs.map((j, i) => pool.run({ job: j, file: join(dir, `${i}.png`) })),
      );
      // The dying card fails; so may the one drawn beside it on the same
      // worker (two in flight a worker: a thread's death loses both, as it
      // did before lanes.ts). Nothing else does.
      const why = (g: PromiseSettledResult<unknown>) => (g.status === 'rejected' ? String(g.reason) : 'ok');
      expect(why(got[1]!)).toMatch(/worker exited with code: 3/);
      expect(['ok', why(got[1]!)]).toContain(why(got[0]!));
      expect(got.slice(2).map(why)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
      for (const [i, j] of jobs.entries())
        if (got[i]!.status === 'fulfilled') {
          const { png } = await renderCard({ ...j, templatesDir: ctx.paths.templates });
          expect(Buffer.compare(readFileSync(join(dir, `${i}.png`)), png), j.id).toBe(0);
        }
      expect(existsSync(join(dir, '1.png'))).toBe(false);
      // The pool still draws after the death.
      const after = await pool.run({ job: job('og'), file: join(dir, 'after.png') });
      expect(after.bytes).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
  }, 240_000);
});
