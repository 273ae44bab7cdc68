import { PNG } from 'pngjs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { CARD_FORMATS } from '../../src/cards/config.ts';
import { editionItems } from '../../src/cards/items.ts';
import { cardPngLevel, encodePng } from '../../src/cards/png.ts';
import { type CardJob, cardPixels, renderCard } from '../../src/cards/render.ts';
import { context, edition } from '../fixtures/cards/edition.ts';

// The zlib level per format (cardPngLevel) for a truecolour card (a photo):
// WeChat and story cards at level 4 when a fast level (1–3) is configured,
// every other format as configured. An indexed card (text only: ≤ 256
// colours) is written at the configured level in every format, and is
// smaller than the RGB level-4 file it replaces. Same decoded pixels.

const ctx = context();
const items = editionItems(edition(), {
  kinds: ['stat', 'article'],
  contentDir: ctx.paths.content,
  brandUrl: ctx.config.brand.url,
});
const stat = items.find((i) => i.kind === 'stat')!;
const art = items.find((i) => i.kind === 'article')!;
const brand = { name: ctx.config.brand.name, url: ctx.config.brand.url, colors: ctx.config.brand.colors };
const jobFor = (format: CardJob['format'], item = stat, data: unknown = item.data): CardJob => ({
  id: `${item.itemId}/${format}`,
  kind: item.kind,
  format,
  data: data as never,
  templatesDir: ctx.paths.templates,
  brand,
  pngCompression: 3,
});
const colourType = (png: Buffer) => png[8 + 8 + 9];

describe('cardPngLevel', () => {
  it('raises only WeChat and story, and only from the fast levels', () => {
    for (const f of CARD_FORMATS)
      for (let level = 0; level <= 9; level++)
        expect(cardPngLevel(f, level)).toBe(
          (f === 'wechat' || f === 'story') && level >= 1 && level <= 3 ? 4 : level,
        );
  });

  it('renderCard writes a text card indexed at the configured level in every format, smaller than RGB at level 4', async () => {
    for (const format of ['wechat', 'story', 'og'] as const) {
      const job = jobFor(format);
      const { png } = await renderCard(job);
      const p = await cardPixels(job);
      const px = Uint8Array.from(p.pixels);
      expect(colourType(png)).toBe(3);
      expect(Buffer.compare(png, encodePng(px, p.width, p.height, 3))).toBe(0);
      expect(png.length).toBeLessThan(encodePng(px, p.width, p.height, 4, { truecolour: true }).length);
      expect(Buffer.compare(PNG.sync.read(png).data, Buffer.from(px))).toBe(0);
    }
  });

  it('indexed rows are deflated run-length (Z_RLE): smaller than the default strategy at the same level, same pixels', async () => {
    for (const format of ['wechat', 'story', 'og'] as const) {
      const p = await cardPixels(jobFor(format));
      const px = Uint8Array.from(p.pixels);
      const rle = encodePng(px, p.width, p.height, 3);
      const plain = encodePng(px, p.width, p.height, 3, { defaultStrategy: true });
      expect(colourType(rle)).toBe(3);
      expect(rle.length).toBeLessThan(plain.length);
      expect(Buffer.compare(PNG.sync.read(rle).data, PNG.sync.read(plain).data)).toBe(0);
      expect(Buffer.compare(PNG.sync.read(rle).data, Buffer.from(px))).toBe(0);
    }
  });

  it('renderCard writes a photo card as RGB, WeChat and story at level 4, og as configured', async () => {
    const photo = await sharp({
      create: {
        width: 320,
        height: 240,
        channels: 3,
        background: '#808080',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .jpeg()
      .toBuffer();
    const data = {
      ...(art.data as object),
      photo: { src: `data:image/jpeg;base64,${photo.toString('base64')}`, alt: '' },
    };
    for (const format of ['wechat', 'story', 'og'] as const) {
      const job = jobFor(format, art, data);
      const { png } = await renderCard(job);
      const p = await cardPixels(job);
      const px = Uint8Array.from(p.pixels);
      expect(colourType(png)).toBe(2);
      const want = format === 'og' ? 3 : 4;
      expect(Buffer.compare(png, encodePng(px, p.width, p.height, want, { truecolour: true }))).toBe(0);
      expect(Buffer.compare(PNG.sync.read(png).data, Buffer.from(px))).toBe(0);
    }
  });
});
