import { Resvg } from '@resvg/resvg-js';
import fc from 'fast-check';
import pixelmatch from 'pixelmatch';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { setGlyphCacheBudget } from '../../src/cards/glyph-cache.ts';
import { rasterize } from '../../src/cards/raster.ts';

// raster.ts draws satori's clipped photos itself (sharp scales the JPEG) and
// drops satori's overflow mask where it is the same whole-pixel rectangle as
// the element's clip path; anything else (a fractional clip, a mask that
// differs, an SVG image) goes to resvg and must stay exactly resvg's pixels.

const dataUri = (type: string, bytes: Buffer) => `data:image/${type};base64,${bytes.toString('base64')}`;
const jpegOf = (rgb: Buffer, width: number, height: number) =>
  sharp(rgb, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 82 })
    .toBuffer();

async function noiseJpeg(w: number, h: number): Promise<string> {
  const px = Buffer.alloc(w * h * 3);
  let x = 12345;
  for (let i = 0; i < px.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    px[i] = x & 0xff;
  }
  return dataUri('jpeg', await jpegOf(px, w, h));
}

/** A photo-like JPEG's bytes: gradients and soft shapes, seeded (no noise, which no crop looks like). */
async function photoBytes(w: number, h: number, seed: number): Promise<Buffer> {
  const px = Buffer.alloc(w * h * 3);
  const cx = (seed % 97) / 97;
  const cy = (seed % 89) / 89;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const d = Math.hypot(x / w - cx, y / h - cy);
      px[i] = (x * 255) / w;
      px[i + 1] = (y * 255) / h;
      px[i + 2] = d < 0.25 ? 220 : 40 + ((seed * 7) % 120);
    }
  return jpegOf(px, w, h);
}
const photoJpeg = async (w: number, h: number, seed: number) => dataUri('jpeg', await photoBytes(w, h, seed));

const card = (
  href: string,
  clip: string,
  mask: string,
  box = 'x="61.7" y="18.3" width="121.6" height="76"',
) =>
  `<svg width="200" height="120" viewBox="0 0 200 120" xmlns="http://www.w3.org/2000/svg"><rect x="0" y="0" width="200" height="120" fill="#ffffff"/><rect x="10" y="10" width="50" height="5" fill="#a4161a"/>` +
  `<clipPath id="satori_cp-id-1"><rect ${clip}/></clipPath><mask id="satori_om-id-1"><rect ${mask} fill="#fff"/></mask>` +
  `<image ${box} href="${href}" preserveAspectRatio="none" clip-path="url(#satori_cp-id-1)" mask="url(#satori_om-id-1)"/></svg>`;

const resvg = (svg: string) =>
  Buffer.from(new Resvg(svg, { font: { loadSystemFonts: false } }).render().pixels);

/** Pixels raster.ts draws, and whether it drew them itself (into the buffer it was given) or through resvg. */
async function ours(svg: string, w = 200, h = 120) {
  const into = new Uint8Array(w * h * 4);
  const got = await rasterize(svg, w, h, into);
  expect(got).toBeDefined();
  return { pixels: Buffer.from(got!.pixels), own: got!.pixels === into };
}

/** Pixels past pixelmatch's 0.1 between raster.ts's drawing and resvg's (200×120). */
const pastResvg = (pixels: Buffer, svg: string) =>
  pixelmatch(pixels, resvg(svg), undefined, 200, 120, { threshold: 0.1 });

/** The card drawn by raster.ts itself (not its resvg fallback); its pixels past resvg's. */
async function ownDrawing(svg: string): Promise<number> {
  const got = await ours(svg);
  expect(got.own, 'drawn by raster.ts, not resvg').toBe(true);
  return pastResvg(got.pixels, svg);
}

describe('rasterize: a clipped photo', () => {
  it.each([
    [
      'fractional rectangle (mask kept)',
      'x="70.5" y="20.25" width="100" height="70"',
      'x="70.5" y="20.25" width="100" height="70"',
    ],
    [
      'mask smaller than the clip (mask kept)',
      'x="70" y="20" width="100" height="70"',
      'x="80" y="30" width="60" height="40"',
    ],
  ])('%s: resvg draws it, exactly the pixels it draws for the SVG as given', async (_name, clip, mask) => {
    const svg = card(await noiseJpeg(64, 40), clip, mask);
    const got = await ours(svg);
    expect(got.own).toBe(false);
    expect(Buffer.compare(got.pixels, resvg(svg))).toBe(0);
  });

  it('the mask matters where it differs from the clip (the test can tell)', async () => {
    const href = await noiseJpeg(64, 40);
    const a = resvg(
      card(href, 'x="70" y="20" width="100" height="70"', 'x="80" y="30" width="60" height="40"'),
    );
    const b = resvg(
      card(href, 'x="70" y="20" width="100" height="70"', 'x="70" y="20" width="100" height="70"'),
    );
    expect(Buffer.compare(a, b)).not.toBe(0);
  });

  it('a whole-pixel clip with its equal mask: drawn by raster.ts (sharp scales the JPEG), the picture resvg draws', async () => {
    const rect = 'x="70" y="20" width="100" height="70"';
    for (const box of [
      'x="61.7" y="18.3" width="121.6" height="76"', // enlarged (sharp's affine transform)
      'x="64.2" y="12.6" width="112.4" height="84.3"', // shrunk (sharp's resize)
    ]) {
      const svg = card(await photoJpeg(150, 110, 7), rect, rect, box);
      const got = await ours(svg);
      expect(got.own, box).toBe(true);
      expect(pastResvg(got.pixels, svg), box).toBe(0);
      // Nothing outside the clip: the photo's box reaches past it on every side.
      const white = resvg(
        card(
          await photoJpeg(150, 110, 7),
          'x="0" y="0" width="1" height="1"',
          'x="0" y="0" width="1" height="1"',
          box,
        ),
      );
      for (let y = 0; y < 120; y++)
        for (let x = 0; x < 200; x++) {
          if (x >= 70 && x < 170 && y >= 20 && y < 90) continue;
          const i = (y * 200 + x) * 4;
          if (x < 1 && y < 1) continue;
          expect(got.pixels.readUInt32LE(i), `${x},${y}`).toBe(white.readUInt32LE(i));
        }
    }
  });

  it('generated photos, scales, placements and clips: raster.ts draws them, within anti-aliasing of resvg (seeded property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          sw: fc.integer({ min: 24, max: 320 }),
          sh: fc.integer({ min: 24, max: 320 }),
          seed: fc.integer({ min: 1, max: 10_000 }),
          // satori's cover fit keeps the photo's aspect: one scale for both axes.
          scale: fc.double({ min: 0.3, max: 2.5, noNaN: true }),
          bx: fc.double({ min: -40, max: 120, noNaN: true }),
          by: fc.double({ min: -40, max: 60, noNaN: true }),
          // The clip: a whole-pixel rectangle inside the photo's box (cover: the box reaches past it).
          c0: fc.double({ min: 0, max: 0.5, noNaN: true }),
          c1: fc.double({ min: 0, max: 0.5, noNaN: true }),
          c2: fc.double({ min: 0.5, max: 1, noNaN: true }),
          c3: fc.double({ min: 0.5, max: 1, noNaN: true }),
        }),
        async (p) => {
          const w = p.sw * p.scale;
          const h = p.sh * p.scale;
          const x0 = Math.max(0, Math.ceil(p.bx + p.c0 * w));
          const y0 = Math.max(0, Math.ceil(p.by + p.c1 * h));
          const x1 = Math.min(200, Math.floor(p.bx + p.c2 * w));
          const y1 = Math.min(120, Math.floor(p.by + p.c3 * h));
          fc.pre(x1 - x0 >= 4 && y1 - y0 >= 4);
          const box = `x="${p.bx}" y="${p.by}" width="${w}" height="${h}"`;
          const rect = `x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}"`;
          const svg = card(await photoJpeg(p.sw, p.sh, p.seed), rect, rect, box);
          // The scalers differ (sharp filters when it shrinks, resvg's bicubic
          // samples): allowed 1 % of the clip's pixels past pixelmatch's 0.1.
          expect(await ownDrawing(svg)).toBeLessThanOrEqual(Math.ceil(0.01 * (x1 - x0) * (y1 - y0)));
        },
      ),
      { seed: 20261130, numRuns: 40 },
    );
  });

  it('a greyscale JPEG is drawn in colour channels, not read as RGB; a box rounding past its clip stays inside it', async () => {
    const grey = await sharp(await photoBytes(160, 120, 5))
      .toColourspace('b-w')
      .jpeg()
      .toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const rect = 'x="70" y="20" width="100" height="70"';
    const svg = card(dataUri('jpeg', grey), rect, rect, 'x="64.2" y="12.6" width="112.4" height="84.3"');
    expect(await ownDrawing(svg)).toBe(0);

    // No clip reaching the card's edge: the box (x 10.6, rounded to 11) ends at
    // 110.6; the clip ends at 105. Nothing past x 105 may change.
    const edge = `<svg width="200" height="120" viewBox="0 0 200 120" xmlns="http://www.w3.org/2000/svg"><rect x="0" y="0" width="200" height="120" fill="#ffffff"/><clipPath id="c"><rect x="10" y="10" width="95" height="60"/></clipPath><mask id="m"><rect x="10" y="10" width="95" height="60" fill="#fff"/></mask><image x="10.6" y="9.7" width="100" height="75" href="${await photoJpeg(160, 120, 9)}" preserveAspectRatio="none" clip-path="url(#c)" mask="url(#m)"/></svg>`;
    const e = await ours(edge);
    expect(e.own).toBe(true);
    for (let y = 0; y < 120; y++)
      for (let x = 0; x < 200; x++)
        if (x < 10 || x >= 105 || y < 10 || y >= 70)
          expect(e.pixels.readUInt32LE((y * 200 + x) * 4), `${x},${y}`).toBe(0xffffffff);
  });

  it("a round PNG portrait (alpha) is drawn by raster.ts with resvg's edge; an SVG image (emoji) and an unreadable JPEG go to resvg", async () => {
    const n = 160;
    const mask = Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${n}" height="${n}"><circle cx="80" cy="80" r="80" fill="#fff"/></svg>`,
    );
    const png = await sharp(await photoBytes(n, n, 3))
      .ensureAlpha()
      .composite([{ input: mask, blend: 'dest-in' }])
      .png()
      .toBuffer();
    const rect = 'x="40" y="20" width="74" height="74"';
    expect(await ownDrawing(card(dataUri('png', png), rect, rect, rect))).toBe(0);

    const emoji = dataUri(
      'svg+xml',
      Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle cx="5" cy="5" r="5" fill="#fc0"/></svg>',
      ),
    );
    const e = await ours(card(emoji, rect, rect, rect));
    expect(e.own).toBe(false);

    // Bytes sharp cannot read: raster.ts declines the card (the caller draws it through resvg).
    const bad = card(dataUri('jpeg', Buffer.from('not a jpeg at all')), rect, rect);
    expect(await rasterize(bad, 200, 120, new Uint8Array(200 * 120 * 4))).toBeUndefined();
  });
});

describe('rasterize: two cards at once (a pool worker draws two)', () => {
  it('a card waiting for its photo still draws its own glyphs when the other card empties the glyph cache', async () => {
    const text = (x: number, t: string) =>
      `<text x="${x}" y="60" width="40" height="30" font-weight="700" font-style="normal" font-size="26" font-family="noto sans hk" fill="#1a1a1a">${t}</text>`;
    const rect = 'x="120" y="10" width="70" height="90"';
    const photo = card(
      await photoJpeg(1200, 900, 11),
      rect,
      rect,
      'x="110.4" y="4.2" width="90.5" height="100.2"',
    ).replace('</svg>', `${text(12, '港')}${text(40, '聞')}</svg>`);
    const other = `<svg width="200" height="120" viewBox="0 0 200 120" xmlns="http://www.w3.org/2000/svg"><rect x="0" y="0" width="200" height="120" fill="#ffffff"/>${text(10, '數')}${text(40, '讀')}${text(70, 'AI')}</svg>`;
    const alone = [(await ours(photo)).pixels, (await ours(other)).pixels];
    // A budget of one byte: every card empties the cache before it draws.
    const before = setGlyphCacheBudget(1);
    try {
      for (let round = 0; round < 3; round++) {
        // The text card starts once the photo card waits for sharp (a turn of
        // the event loop later): it empties the cache the photo card filled.
        const first = ours(photo);
        await new Promise((r) => setImmediate(r));
        const both = [await ours(other), await first].reverse();
        expect(both[0]!.own).toBe(true);
        expect(Buffer.compare(both[0]!.pixels, alone[0]!), 'the photo card').toBe(0);
        expect(Buffer.compare(both[1]!.pixels, alone[1]!), 'the text card').toBe(0);
      }
    } finally {
      setGlyphCacheBudget(before);
    }
  });
});
