import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { FORMATS } from '../../src/cards/formats.ts';
import { editionItems } from '../../src/cards/items.ts';
import { rasterize } from '../../src/cards/raster.ts';
import { predecodedCount, predecodePhoto } from '../../src/cards/raster-images.ts';
import { type CardJob, cardPixels, cardSvg } from '../../src/cards/render.ts';
import { context, edition } from '../fixtures/cards/edition.ts';

// A photo card's JPEG is decoded while satori lays the card out
// (render.ts → raster.ts predecodePhoto), then only scaled once the layout
// says where it goes. The pixels must be exactly those of decoding and
// scaling in one pipeline after the layout (the path without it): photos of
// any size against every format's slot (shrunk or enlarged), greyscale ones,
// and bytes that are no JPEG at all.

const ctx = context();
const art = editionItems(edition(), {
  kinds: ['article'],
  contentDir: ctx.paths.content,
  brandUrl: ctx.config.brand.url,
}).find((i) => i.kind === 'article')!;
const brand = { name: ctx.config.brand.name, url: ctx.config.brand.url, colors: ctx.config.brand.colors };
const jobWith = (format: CardJob['format'], src: string): CardJob => ({
  id: `${art.itemId}/${format}`,
  kind: 'article',
  format,
  data: { ...(art.data as object), photo: { src, alt: '' } } as never,
  templatesDir: ctx.paths.templates,
  brand,
  pngCompression: 3,
});

const jpeg = async (width: number, height: number, seed: number, grey = false) => {
  const img = sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 30 + (seed % 40) },
    },
  });
  const bytes = await (grey ? img.greyscale() : img).jpeg({ quality: 60 + (seed % 30) }).toBuffer();
  return `data:image/jpeg;base64,${bytes.toString('base64')}`;
};

/** The card's pixels without the early decode: raster.ts decodes the JPEG after the layout. */
async function withoutPredecode(job: CardJob) {
  const { width, height } = FORMATS[job.format];
  const r = await rasterize(await cardSvg(job, { embedFont: false }), width, height);
  return r!.pixels;
}

describe('photo cards decoded ahead of their layout', () => {
  it('draw exactly the pixels of decoding after the layout, for photos of any size in every format', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...(Object.keys(FORMATS) as CardJob['format'][])),
        fc.integer({ min: 40, max: 2400 }),
        fc.integer({ min: 40, max: 1800 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.boolean(),
        async (format, w, h, seed, grey) => {
          const job = jobWith(format, await jpeg(w, h, seed, grey));
          const early = await cardPixels(job); // predecodes, then draws
          expect(early.bitmap).toBe(true);
          expect(predecodedCount()).toBe(0); // taken by the card that drew it
          const late = await withoutPredecode(job);
          expect(Buffer.compare(Buffer.from(early.pixels), Buffer.from(late))).toBe(0);
        },
      ),
      { seed: 20261201, numRuns: 20 },
    );
  }, 240_000);

  it('a JPEG sharp cannot decode: the card goes to resvg with or without the early decode, nothing left unhandled', async () => {
    const whole = Buffer.from((await jpeg(400, 300, 7)).split(',')[1]!, 'base64');
    // The header (size) intact, so satori lays it out; the scan data cut off.
    const cut = `data:image/jpeg;base64,${whole.subarray(0, Math.floor(whole.length * 0.4)).toString('base64')}`;
    const job = jobWith('og', cut);
    const svg = await cardSvg(job, { embedFont: false });
    const { width, height } = FORMATS.og;
    predecodePhoto(cut);
    expect(predecodedCount()).toBe(1);
    expect(await rasterize(svg, width, height)).toBeUndefined();
    expect(predecodedCount()).toBe(0);
    expect(await rasterize(svg, width, height)).toBeUndefined();
    // The whole card, through resvg as before.
    expect((await cardPixels(job)).width).toBe(width);
  });

  it('keeps only the latest few when their cards never draw them', async () => {
    for (let i = 0; i < 10; i++) predecodePhoto(await jpeg(32, 32, i));
    expect(predecodedCount()).toBeLessThanOrEqual(4);
    // Not a JPEG data: URL: nothing started.
    const before = predecodedCount();
    predecodePhoto('data:image/png;base64,AAAA');
    expect(predecodedCount()).toBe(before);
  });
});
