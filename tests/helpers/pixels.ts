import { PNG } from 'pngjs';
import sharp from 'sharp';
import { expect } from 'vitest';

/** A seeded xorshift32 generator: the next unsigned 32-bit value on each call. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

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
  const next = xorshift(seed);
  for (let i = 0; i < px.length; i++) {
    const x = next();
    px[i] = x % run.every === 0 ? run.value : x & 0xff;
    if (opaque && i % 4 === 3) px[i] = 255;
  }
  return px;
}

/**
 * Seeded RGBA pixels drawn from `n` colours (opaque unless `translucent`),
 * every colour once, then in runs of random length as on a card (flat
 * colour, then an edge): pictures an indexed PNG must hold exactly.
 */
export function palettePixels(
  w: number,
  h: number,
  n: number,
  seed: number,
  translucent: boolean,
): Uint8Array {
  const next = xorshift(seed);
  const colours = Array.from({ length: n }, (_, i) => [
    i & 0xff,
    next() & 0xff,
    (i >> 8) * 97,
    translucent && i % 3 === 1 ? next() % 255 : 255,
  ]);
  const px = new Uint8Array(w * h * 4);
  let at = 0;
  for (let i = 0; i < n && at < w * h; i++, at++) px.set(colours[i]!, at * 4);
  while (at < w * h) {
    const c = colours[next() % n]!;
    for (let run = 1 + (next() % 9); run > 0 && at < w * h; run--, at++) px.set(c, at * 4);
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
