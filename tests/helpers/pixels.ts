import { PNG } from 'pngjs';
import sharp from 'sharp';
import { expect } from 'vitest';

/**
 * Seeded RGBA pixels for PNG round-trip properties: xorshift noise with runs of
 * one value (`run.value` at every `run.every`-th draw on average), so deflate
 * finds matches too; `opaque` sets every alpha to 255.
 */
export function randomPixels(
  w: number,
  h: number,
  seed: number,
  { opaque = false, run = { value: 200, every: 5 } } = {},
): Uint8Array {
  const px = new Uint8Array(w * h * 4);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < px.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    px[i] = (x >>> 0) % run.every === 0 ? run.value : (x >>> 0) & 0xff;
    if (opaque && i % 4 === 3) px[i] = 255;
  }
  return px;
}

/** The PNG decodes, in pngjs and in libvips, to exactly `px` (RGBA), at w × h. */
export async function expectExactPixels(png: Buffer, px: Uint8Array, w: number, h: number) {
  const a = PNG.sync.read(png);
  expect([a.width, a.height]).toEqual([w, h]);
  expect(Buffer.compare(a.data, Buffer.from(px.buffer, px.byteOffset, px.byteLength))).toBe(0);
  const b = await sharp(png).ensureAlpha().raw().toBuffer();
  expect(Buffer.compare(b, Buffer.from(px.buffer, px.byteOffset, px.byteLength))).toBe(0);
}
