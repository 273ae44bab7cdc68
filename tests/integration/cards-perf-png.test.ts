import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../../src/cards/png.ts';
import { expectExactPixels, palettePixels, randomPixels } from '../helpers/pixels.ts';

// encodePng writes a card of at most 256 colours indexed (colour type 3,
// with tRNS when a colour is not opaque), else an all-opaque card as 8-bit
// RGB (2) and anything else as RGBA (6): every way the PNG decodes to exactly
// the pixels drawn (pngjs and libvips give alpha 255 back for RGB).

const colourType = (png: Buffer) => png[8 + 8 + 9]; // signature, IHDR length + type, 9th byte of IHDR
const distinct = (px: Uint8Array) =>
  new Set(new Uint32Array(px.buffer.slice(px.byteOffset, px.byteOffset + px.byteLength))).size;
/** The chunk types of a PNG, in order. */
function chunkTypes(png: Buffer): string[] {
  const out: string[] = [];
  for (let at = 8; at < png.length; at += 12 + png.readUInt32BE(at))
    out.push(png.toString('latin1', at + 4, at + 8));
  return out;
}

describe('encodePng, indexed cards', () => {
  it('round-trips pixels of ≤ 256 colours exactly as indexed, with tRNS only for a translucent colour', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 256 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 9 }),
        fc.integer(),
        async (w, h, n, translucent, level, seed) => {
          const px = palettePixels(w, h, n, seed, translucent);
          const png = encodePng(px, w, h, level);
          expect(colourType(png)).toBe(3);
          const anyTranslucent = px.some((v, i) => i % 4 === 3 && v !== 255);
          expect(chunkTypes(png)).toEqual(
            anyTranslucent ? ['IHDR', 'PLTE', 'tRNS', 'IDAT', 'IEND'] : ['IHDR', 'PLTE', 'IDAT', 'IEND'],
          );
          await expectExactPixels(png, px, w, h);
        },
      ),
      { seed: 1619, numRuns: 60 },
    );
  });

  it('writes 257 colours as truecolour, wherever the 257th first appears', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer(), async (where, seed) => {
        const w = 40;
        const h = 30;
        const px = palettePixels(w, h, 256, seed, false);
        const at = 256 + (where % (w * h - 256)); // after the 256 colours' first pixels
        px.set([7, 7, 7, 255], at * 4);
        expect(distinct(px)).toBe(257);
        const png = encodePng(px, w, h, 3);
        expect(colourType(png)).toBe(2);
        await expectExactPixels(png, px, w, h);
      }),
      { seed: 1620, numRuns: 30 },
    );
  });

  it('is truecolour when told (truecolour), and at indexedLevel when indexed', async () => {
    const w = 200;
    const h = 120;
    const px = palettePixels(w, h, 90, 11, false);
    expect(colourType(encodePng(px, w, h, 3, { truecolour: true }))).toBe(2);
    const at1 = encodePng(px, w, h, 9, { indexedLevel: 1 });
    const at9 = encodePng(px, w, h, 1, { indexedLevel: 9 });
    expect(colourType(at1)).toBe(3);
    expect(Buffer.compare(at1, encodePng(px, w, h, 1))).toBe(0);
    expect(Buffer.compare(at9, encodePng(px, w, h, 9))).toBe(0);
    await expectExactPixels(at9, px, w, h);
  });

  it('makes a card-like image of few colours smaller than RGB', () => {
    const w = 300;
    const h = 160;
    const px = palettePixels(w, h, 120, 5, false);
    const indexed = encodePng(px, w, h, 3);
    const rgb = encodePng(px, w, h, 3, { truecolour: true });
    expect(colourType(indexed)).toBe(3);
    expect(indexed.length).toBeLessThan(rgb.length);
  });
});

describe('encodePng, opaque cards as RGB', () => {
  it('round-trips opaque pixels exactly as RGB (indexed when ≤ 256 colours), at any width and level', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 41 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer(),
        async (w, h, level, seed) => {
          const px = randomPixels(w, h, seed, { opaque: true });
          const png = encodePng(px, w, h, level);
          expect(colourType(png)).toBe(distinct(px) <= 256 ? 3 : 2);
          await expectExactPixels(png, px, w, h);
        },
      ),
      { seed: 1617, numRuns: 40 },
    );
  });

  it('keeps RGBA when a single pixel is not opaque, wherever it is (indexed with tRNS when ≤ 256 colours)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 41 }),
        fc.integer({ min: 1, max: 30 }),
        fc.nat(),
        fc.integer({ min: 0, max: 254 }),
        async (w, h, at, alpha) => {
          const px = randomPixels(w, h, at + 7, { opaque: true });
          px[(at % (w * h)) * 4 + 3] = alpha;
          const png = encodePng(px, w, h, 3);
          expect(colourType(png)).toBe(distinct(px) <= 256 ? 3 : 6);
          await expectExactPixels(png, px, w, h);
        },
      ),
      { seed: 1618, numRuns: 40 },
    );
  });

  it('reads pixels at an unaligned offset correctly (written as RGBA, never indexed)', async () => {
    const w = 9;
    const h = 5;
    const backing = new Uint8Array(w * h * 4 + 1);
    const px = backing.subarray(1);
    px.set(randomPixels(w, h, 99, { opaque: true }));
    const png = encodePng(px, w, h, 3);
    expect(colourType(png)).toBe(6);
    await expectExactPixels(png, px, w, h);
  });

  it('makes an opaque card smaller than RGBA would', () => {
    // A card-like image: flat background, a band of "text" noise.
    const w = 300;
    const h = 160;
    const px = new Uint8Array(w * h * 4).fill(255);
    const noise = randomPixels(w, 20, 5, { opaque: true });
    px.set(noise, w * 4 * 70);
    const rgb = encodePng(px, w, h, 3);
    px[3] = 254; // one translucent pixel: RGBA
    const rgba = encodePng(px, w, h, 3);
    expect(colourType(rgb)).toBe(2);
    expect(colourType(rgba)).toBe(6);
    expect(rgb.length).toBeLessThan(rgba.length);
  });
});
