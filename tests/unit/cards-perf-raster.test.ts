import { Resvg } from '@resvg/resvg-js';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { rasterize } from '../../src/cards/raster.ts';

// raster.ts drops satori's overflow mask where it is the same whole-pixel
// rectangle as the element's clip path (resvg drew it as a canvas-sized
// layer): the pixels must stay exactly those resvg draws for the SVG as given.

async function noiseJpeg(w: number, h: number): Promise<string> {
  const px = Buffer.alloc(w * h * 3);
  let x = 12345;
  for (let i = 0; i < px.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    px[i] = x & 0xff;
  }
  const jpeg = await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 82 })
    .toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}

const card = (href: string, clip: string, mask: string) =>
  `<svg width="200" height="120" viewBox="0 0 200 120" xmlns="http://www.w3.org/2000/svg"><rect x="0" y="0" width="200" height="120" fill="#ffffff"/><rect x="10" y="10" width="50" height="5" fill="#a4161a"/>` +
  `<clipPath id="satori_cp-id-1"><rect ${clip}/></clipPath><mask id="satori_om-id-1"><rect ${mask} fill="#fff"/></mask>` +
  `<image x="61.7" y="18.3" width="121.6" height="76" href="${href}" preserveAspectRatio="none" clip-path="url(#satori_cp-id-1)" mask="url(#satori_om-id-1)"/></svg>`;

const resvg = (svg: string) =>
  Buffer.from(new Resvg(svg, { font: { loadSystemFonts: false } }).render().pixels);

describe('rasterize: a clipped photo', () => {
  it.each([
    [
      'mask equal to the clip, whole pixels (mask dropped)',
      'x="70" y="20" width="100" height="70"',
      'x="70" y="20" width="100" height="70"',
    ],
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
  ])('%s: exactly the pixels resvg draws for the SVG as given', async (_name, clip, mask) => {
    const svg = card(await noiseJpeg(64, 40), clip, mask);
    const got = await rasterize(svg, 200, 120);
    expect(got).toBeDefined();
    expect(Buffer.compare(Buffer.from(got!.pixels), resvg(svg))).toBe(0);
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
});
