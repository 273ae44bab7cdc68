import pixelmatch from 'pixelmatch';
import { describe, expect, it } from 'vitest';
import { CARD_FORMATS } from '../../src/cards/config.ts';
import { editionItems } from '../../src/cards/items.ts';
import { rasterize } from '../../src/cards/raster.ts';
import { type CardJob, cardPixels, cardSvg } from '../../src/cards/render.ts';
import { context, edition } from '../fixtures/cards/edition.ts';

// The glyph-cache renderer (src/cards/raster.ts) against the glyph-outline one
// (resvg): every card of the fixture edition, every kind × format, must draw
// the same picture up to anti-aliasing at glyph edges.

const ctx = context();
const items = editionItems(edition(), {
  kinds: ctx.config.cards.kinds,
  contentDir: ctx.paths.content,
  brandUrl: ctx.config.brand.url,
});
const brand = { name: ctx.config.brand.name, url: ctx.config.brand.url, colors: ctx.config.brand.colors };

const job = (item: (typeof items)[number], format: CardJob['format']): CardJob => ({
  id: `${item.itemId}/${format}`,
  kind: item.kind,
  format,
  data: item.data,
  templatesDir: ctx.paths.templates,
  brand,
  pngCompression: 1,
});

async function compare(j: CardJob) {
  const a = await cardPixels({ ...j, renderer: 'resvg' });
  const b = await cardPixels({ ...j, renderer: 'glyphcache' });
  expect([b.width, b.height]).toEqual([a.width, a.height]);
  const diff = pixelmatch(a.pixels, b.pixels, undefined, a.width, a.height, { threshold: 0.1 });
  return diff / (a.width * a.height);
}

describe('glyphcache renderer matches resvg', () => {
  it('covers every kind in the fixture edition', () => {
    expect(new Set(items.map((i) => i.kind))).toEqual(new Set(ctx.config.cards.kinds));
  });
  for (const format of CARD_FORMATS) {
    it(`every card at ${format}`, async () => {
      for (const item of items) {
        const j = job(item, format);
        // Drawn by raster.ts itself, not by the resvg fallback.
        expect(await rasterize(await cardSvg(j, { embedFont: false }), 1, 1)).toBeDefined();
        const d = await compare(j);
        expect(d, j.id).toBeLessThan(0.003);
      }
    });
  }

  it('emoji, HKSCS characters and hostile text', async () => {
    const base = job(items.find((i) => i.kind === 'article')!, 'og');
    for (const title of ['港人週末 👨‍👩‍👧 🇭🇰 1️⃣ 出遊😀', '𨋢啲', '<script>alert("x")</script> & </svg>']) {
      const d = await compare({
        ...base,
        data: { ...(base.data as object), title, photo: undefined } as CardJob['data'],
      });
      expect(d, title).toBeLessThan(0.003);
    }
  });
});
