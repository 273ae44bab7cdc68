import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePng } from '../../src/cards/png.ts';
import { expectExactPixels, randomPixels } from '../helpers/pixels.ts';

// encodePng writes an all-opaque card as 8-bit RGB (colour type 2) and
// anything else as RGBA (6): either way the PNG decodes to exactly the pixels
// drawn (pngjs and libvips give alpha 255 back for RGB).

const colourType = (png: Buffer) => png[8 + 8 + 9]; // signature, IHDR length + type, 9th byte of IHDR

describe('encodePng, opaque cards as RGB', () => {
  it('round-trips opaque pixels exactly as RGB, at any width (not only multiples of 4) and level', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 41 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer(),
        async (w, h, level, seed) => {
          const px = randomPixels(w, h, seed, { opaque: true });
          const png = encodePng(px, w, h, level);
          expect(colourType(png)).toBe(2);
          await expectExactPixels(png, px, w, h);
        },
      ),
      { seed: 1617, numRuns: 40 },
    );
  });

  it('keeps RGBA when a single pixel is not opaque, wherever it is', async () => {
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
          expect(colourType(png)).toBe(6);
          await expectExactPixels(png, px, w, h);
        },
      ),
      { seed: 1618, numRuns: 40 },
    );
  });

  it('reads pixels at an unaligned offset correctly (written as RGBA)', async () => {
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
