import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fillOutline, parseOutline } from '../../src/cards/glyph-fill.ts';
import { glyphBitmap, glyphIds } from '../../src/cards/raster.ts';

// glyph-fill.ts draws a glyph's coverage with resvg's own sampling (four
// sub-scanlines, quarter-pixel crossings, Skia's quad subdivision): against
// resvg drawing the same HarfBuzz outline, real glyphs of both weights at the
// cards' sizes and quarter-pixel offsets differ in few pixels, by little.

const SAMPLE =
  '中國AI突飛猛進專利量全球居首產業規模僅北京就達4500億算力芯片加速突破「卡脖子」DeepSeek-R1打破神話。大公報記者郭瀚林gjpqy@%&';

const box = (x0: number, y0: number, x1: number, y1: number) =>
  `M${x0},${y0}L${x1},${y0}L${x1},${y1}L${x0},${y1}Z`;

describe('fillOutline', () => {
  it('fills a pixel-aligned square exactly: 255 inside, 0 outside', () => {
    const cov = fillOutline(parseOutline(box(2, 2, 6, 5)), 1, 1, 0, 0, 8, 7);
    for (let y = 0; y < 7; y++)
      for (let x = 0; x < 8; x++)
        expect(cov[y * 8 + x], `${x},${y}`).toBe(x >= 2 && x < 6 && y >= 2 && y < 5 ? 255 : 0);
  });

  it('counts overlapping contours once (non-zero) and leaves a counter-wound hole empty', () => {
    const twice = fillOutline(parseOutline(box(1, 1, 5, 5) + box(1, 1, 5, 5)), 1, 1, 0, 0, 6, 6);
    expect(Math.max(...twice)).toBe(255);
    const hole = fillOutline(parseOutline(`${box(0, 0, 6, 6)}M2,2L2,4L4,4L4,2Z`), 1, 1, 0, 0, 6, 6);
    expect([hole[2 * 6 + 2], hole[3 * 6 + 3], hole[0], hole[5 * 6 + 5]]).toEqual([0, 0, 255, 255]);
  });

  it('fills a circle drawn with cubics (a CFF font) or quadratics (TrueType) to its area', () => {
    const r = 10;
    const k = 0.5523 * r; // the usual cubic approximation of a quarter circle
    const cubic = `M26,16C26,${16 + k} ${16 + k},26 16,26C${16 - k},26 6,${16 + k} 6,16C6,${16 - k} ${16 - k},6 16,6C${16 + k},6 26,${16 - k} 26,16Z`;
    const quads = `M26,16${Array.from({ length: 16 }, (_, i) => {
      const a0 = (i * Math.PI) / 8;
      const a1 = ((i + 1) * Math.PI) / 8;
      const c = r / Math.cos(Math.PI / 16);
      const am = (a0 + a1) / 2;
      return `Q${16 + c * Math.cos(am)},${16 + c * Math.sin(am)} ${16 + r * Math.cos(a1)},${16 + r * Math.sin(a1)}`;
    }).join('')}Z`;
    for (const path of [cubic, quads]) {
      const cov = fillOutline(parseOutline(path), 1, 1, 0.3, 0.6, 32, 32);
      const drawn = cov.reduce((s, v) => s + v, 0) / 255;
      expect(Math.abs(drawn - Math.PI * r * r), path.slice(0, 12)).toBeLessThan(2 * Math.PI * r * 0.1);
      expect(cov[16 * 32 + 16]).toBe(255);
      expect(cov[0]).toBe(0);
    }
  });

  it('covers a random polygon’s area, to within a quarter pixel along its edges', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.double({ min: 1, max: 29, noNaN: true }), fc.double({ min: 1, max: 29, noNaN: true })),
          {
            minLength: 3,
            maxLength: 9,
          },
        ),
        (pts) => {
          // A star-shaped polygon around its centroid, so it does not cross itself.
          const cx = pts.reduce((s, p) => s + p[0], 0) / pts.length;
          const cy = pts.reduce((s, p) => s + p[1], 0) / pts.length;
          const poly = [...pts].sort(
            (a, b) => Math.atan2(a[1] - cy, a[0] - cx) - Math.atan2(b[1] - cy, b[0] - cx),
          );
          let area = 0;
          let perimeter = 0;
          poly.forEach(([x0, y0], i) => {
            const [x1, y1] = poly[(i + 1) % poly.length]!;
            area += x0 * y1 - x1 * y0;
            perimeter += Math.hypot(x1 - x0, y1 - y0);
          });
          area = Math.abs(area) / 2;
          const path = `M${poly.map(([x, y]) => `${x},${y}`).join('L')}Z`;
          const cov = fillOutline(parseOutline(path), 1, 1, 0, 0, 30, 30);
          const drawn = cov.reduce((s, v) => s + v, 0) / 255;
          expect(Math.abs(drawn - area)).toBeLessThanOrEqual(perimeter * 0.25 + 1);
        },
      ),
      { seed: 7, numRuns: 200 },
    );
  });
});

describe('the fill engine against resvg, on real glyphs', () => {
  it('differs in few pixels of the cards’ glyphs, by little', async () => {
    let pixels = 0;
    let differ = 0;
    let far = 0;
    let max = 0;
    for (const weight of [400, 700]) {
      const ids = [...new Set(await glyphIds(SAMPLE, weight))];
      for (const size of [11, 18, 27, 36.3, 66, 120])
        for (const [fx, fy] of [
          [0, 0],
          [0.25, 0.5],
          [0.75, 0.25],
        ] as const)
          for (const gid of ids) {
            const a = await glyphBitmap(weight, gid, size, fx, fy, 'fill');
            const b = await glyphBitmap(weight, gid, size, fx, fy, 'resvg');
            expect([a.w, a.h, a.ox, a.oy]).toEqual([b.w, b.h, b.ox, b.oy]);
            expect(Boolean(a.cov)).toBe(Boolean(b.cov));
            if (!a.cov || !b.cov) continue;
            for (let i = 0; i < a.cov.length; i++) {
              const d = Math.abs(a.cov[i]! - b.cov[i]!);
              pixels++;
              if (d) differ++;
              if (d > 26) far++; // pixelmatch's 0.1 threshold is about 26 levels of grey
              max = Math.max(max, d);
            }
          }
    }
    // Measured here: 0.25 % of pixels differ at all, 0.47 in 10,000 by more than 26 levels, at most by 64.
    expect(differ / pixels).toBeLessThan(0.01);
    expect(far / pixels).toBeLessThan(0.0002);
    expect(max).toBeLessThanOrEqual(80);
  }, 120_000);
});
