import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { CARD_FORMATS } from '../../src/cards/config.ts';
import { editionItems } from '../../src/cards/items.ts';
import { cardPngLevel, encodePng } from '../../src/cards/png.ts';
import { type CardJob, cardPixels, renderCard } from '../../src/cards/render.ts';
import { context, edition } from '../fixtures/cards/edition.ts';

// The zlib level per format (cardPngLevel): WeChat and story cards at level 4 when a
// fast level (1–3) is configured, every other format as configured; and
// renderCard writes each format at that level (same decoded pixels).

const ctx = context();
const items = editionItems(edition(), {
  kinds: ['stat'],
  contentDir: ctx.paths.content,
  brandUrl: ctx.config.brand.url,
});
const brand = { name: ctx.config.brand.name, url: ctx.config.brand.url, colors: ctx.config.brand.colors };
const jobFor = (format: CardJob['format']): CardJob => ({
  id: `${items[0]!.itemId}/${format}`,
  kind: 'stat',
  format,
  data: items[0]!.data,
  templatesDir: ctx.paths.templates,
  brand,
  pngCompression: 3,
});

describe('cardPngLevel', () => {
  it('raises only WeChat and story, and only from the fast levels', () => {
    for (const f of CARD_FORMATS)
      for (let level = 0; level <= 9; level++)
        expect(cardPngLevel(f, level)).toBe(
          (f === 'wechat' || f === 'story') && level >= 1 && level <= 3 ? 4 : level,
        );
  });

  it('renderCard writes WeChat and story cards at level 4 and an og card at the configured level, same pixels', async () => {
    for (const format of ['wechat', 'story', 'og'] as const) {
      const job = jobFor(format);
      const { png } = await renderCard(job);
      const p = await cardPixels(job);
      const px = Uint8Array.from(p.pixels);
      const want = format === 'og' ? 3 : 4;
      expect(Buffer.compare(png, encodePng(px, p.width, p.height, want))).toBe(0);
      if (format !== 'og') expect(png.length).toBeLessThan(encodePng(px, p.width, p.height, 3).length);
      expect(Buffer.compare(PNG.sync.read(png).data, Buffer.from(px))).toBe(0);
    }
  });
});
