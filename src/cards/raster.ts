import { Resvg } from '@resvg/resvg-js';
import { usesFallback } from './fonts.ts';
import {
  addGlyph,
  type Glyph,
  type GlyphEngine,
  getGlyph,
  glyphKey,
  rasterizeGlyph,
  SUB,
  type Want,
} from './glyph-cache.ts';
import { blendPixel, drawImage, imagePixels } from './raster-images.ts';
import { parseCardSvg, type RectEl, type Rgba } from './raster-svg.ts';
import { hbReady, loadFaces, shape } from './shaping.ts';

// The glyph-cache rasterizer (cards.renderer: 'glyphcache').
//
// satori with embedFont:false lays the card out and emits each text segment as
// a positioned <text> element instead of glyph outlines. We draw the page
// without them (plain rects in JS; anything else through resvg), then shape
// each segment with the same HarfBuzz build satori shapes with and composite
// cached glyph coverage bitmaps onto the pixels. A photo (a JPEG <image>
// clipped to a whole-pixel rectangle) is scaled by sharp and copied in; a
// portrait (PNG) is drawn by resvg in a canvas of its own size, not the
// card's. A glyph is rasterized once per
// (weight, glyph id, size, ¼-px subpixel offset) by glyph-cache.ts, sampled
// as resvg samples (glyph-fill.ts), and kept between builds by glyph-store.ts;
// a warm card pays only for layout, a few rect fills and an alpha-blend loop.
//
// `rasterize` returns undefined for an SVG it does not understand (text inside
// a mask, clip path, filter or transform; an unknown colour; …): the caller
// then renders the card the old way. Reading the SVG: raster-svg.ts.

// ── Pixels ─────────────────────────────────────────────────────────────────

function fillRect(px: Uint8Array, words: Uint32Array, W: number, H: number, r: RectEl) {
  const [cr, cg, cb, ca] = r.colour;
  if (ca <= 0 || !(r.w > 0) || !(r.h > 0)) return;
  const x0 = Math.max(0, r.x);
  const y0 = Math.max(0, r.y);
  const x1 = Math.min(W, r.x + r.w);
  const y1 = Math.min(H, r.y + r.h);
  if (x1 <= x0 || y1 <= y0) return;
  const ix0 = Math.floor(x0);
  const iy0 = Math.floor(y0);
  const ix1 = Math.ceil(x1);
  const iy1 = Math.ceil(y1);
  const whole = ca === 1 && ix0 === x0 && iy0 === y0 && ix1 === x1 && iy1 === y1;
  if (whole) {
    // Little-endian RGBA as one 32-bit word.
    const word = (cr | (cg << 8) | (cb << 16) | (255 << 24)) >>> 0;
    for (let y = iy0; y < iy1; y++) words.fill(word, y * W + ix0, y * W + ix1);
    return;
  }
  for (let y = iy0; y < iy1; y++) {
    const cy = Math.min(y + 1, y1) - Math.max(y, y0);
    for (let x = ix0; x < ix1; x++) {
      const cx = Math.min(x + 1, x1) - Math.max(x, x0);
      blendPixel(px, (y * W + x) * 4, cr, cg, cb, ca * cx * cy);
    }
  }
}

// ── Glyph cache ────────────────────────────────────────────────────────────

/**
 * One glyph's coverage bitmap as the glyph cache would hold it (for tests:
 * the 'fill' engine against resvg's). Its top-left sits at (ox, oy) from the
 * pen position at whole pixels; fx, fy are the pen's fraction (0–1).
 */
export async function glyphBitmap(
  weight: number,
  gid: number,
  size: number,
  fx: number,
  fy: number,
  engine: GlyphEngine,
): Promise<Glyph> {
  const fs = await loadFaces();
  return rasterizeGlyph(fs.get(weight)!, { key: '', weight, gid, size, fx, fy }, engine);
}

/** HarfBuzz's copies of the faces, made ahead of the first card (a worker's warm-up, worker.ts). */
export async function warmRaster(): Promise<void> {
  await loadFaces();
}

/** The glyph ids HarfBuzz gives `text` in the `weight` face (tests pick real glyphs with it). */
export async function glyphIds(text: string, weight: number): Promise<number[]> {
  const fs = await loadFaces();
  return Array.from(shape(await hbReady, fs.get(weight)!, text).g);
}

/** (x / 255) rounded down, exactly, for 0 ≤ x ≤ 255·255 + 127: no float division per channel. */
const div255 = (x: number) => (x + 1 + (x >> 8)) >> 8;

function drawGlyph(
  px: Uint8Array,
  words: Uint32Array,
  W: number,
  H: number,
  g: Glyph,
  ix: number,
  iy: number,
  c: Rgba,
) {
  const cov = g.cov;
  if (!cov) return;
  const r = c[0];
  const gg = c[1];
  const b = c[2];
  const a = c[3];
  const x0 = ix + g.ox;
  const y0 = iy + g.oy;
  const sx = Math.max(0, -x0);
  const sy = Math.max(0, -y0);
  const ex = Math.min(g.w, W - x0);
  const ey = Math.min(g.h, H - y0);
  const opaque = a === 1;
  // The colour as one little-endian RGBA word (as fillRect writes it).
  const solid = r | (gg << 8) | (b << 16) | (255 << 24);
  for (let y = sy; y < ey; y++) {
    let ci = y * g.w + sx;
    let wi = (y0 + y) * W + x0 + sx;
    for (let x = sx; x < ex; x++, ci++, wi++) {
      const v = cov[ci]!;
      if (v === 0) continue;
      const d = words[wi]!;
      if (opaque && d >>> 24 === 255) {
        // The common case, in integers: an opaque colour onto an opaque pixel,
        // each channel (colour·v + pixel·(255 − v) + 127) / 255 rounded down.
        if (v === 255) words[wi] = solid;
        else {
          const k = 255 - v;
          words[wi] =
            div255(r * v + (d & 255) * k + 127) |
            (div255(gg * v + ((d >>> 8) & 255) * k + 127) << 8) |
            (div255(b * v + ((d >>> 16) & 255) * k + 127) << 16) |
            (255 << 24);
        }
        continue;
      }
      blendPixel(px, wi * 4, r, gg, b, (v / 255) * a);
    }
  }
}

export interface Raster {
  pixels: Uint8Array;
  width: number;
  height: number;
  /** A bitmap (photo, portrait) was drawn: more colours than a palette holds, so not worth counting. */
  bitmap: boolean;
}

/** Pixels for satori's embedFont:false SVG, or undefined when it uses something we do not draw. */
export async function rasterize(
  svg: string,
  width: number,
  height: number,
  /** A width×height×4 buffer to draw into (reused across cards), when no resvg pass is needed. */
  into?: Uint8Array,
): Promise<Raster | undefined> {
  const parsed = parseCardSvg(svg);
  if (!parsed) return undefined;
  // Images are scaled by sharp (on libuv's threads) while glyphs are placed
  // and the page is filled; one it cannot read (null) sends the card to resvg;
  // undefined: nothing of it is inside its clip and the card.
  const scaling = Promise.all(
    parsed.els.map((el) =>
      el.t === 'image' ? imagePixels(el.v, width, height).catch(() => null) : undefined,
    ),
  );
  const hb = await hbReady;
  const fs = await loadFaces();

  // Glyph placements first, then the missing bitmaps, then drawing.
  const draws: { el: number; key: string; ix: number; iy: number }[] = [];
  // Every bitmap this card draws, by key, held here as it is found or made:
  // while the card waits for its images, another card (a pool worker draws two
  // at once) may push it out of the cache.
  const held = new Map<string, Glyph>();
  const misses = new Map<string, Want>();
  for (let e = 0; e < parsed.els.length; e++) {
    const el = parsed.els[e]!;
    if (el.t !== 'text') continue;
    const t = el.v;
    const weight = t.weight >= 600 ? 700 : 400;
    const face = fs.get(weight);
    if (!face) return undefined;
    // Text from the fallback face (mainland simplified characters): outlines through resvg.
    if (usesFallback(t.text)) return undefined;
    const sh = shape(hb, face, t.text);
    const s = t.size / face.upem;
    let pen = t.x;
    for (let i = 0; i < sh.g.length; i++) {
      const gx = pen + sh.x[i]! * s;
      const gy = t.y - sh.y[i]! * s;
      let ix = Math.floor(gx);
      let fx = Math.round((gx - ix) * SUB);
      if (fx === SUB) {
        ix++;
        fx = 0;
      }
      let iy = Math.floor(gy);
      let fy = Math.round((gy - iy) * SUB);
      if (fy === SUB) {
        iy++;
        fy = 0;
      }
      const key = glyphKey(weight, sh.g[i]!, t.size, fx, fy);
      if (!held.has(key) && !misses.has(key)) {
        const g = getGlyph(key);
        if (g) held.set(key, g);
        else misses.set(key, { key, weight, gid: sh.g[i]!, size: t.size, fx: fx / SUB, fy: fy / SUB });
      }
      draws.push({ el: e, key, ix, iy });
      pen += sh.ax[i]! * s;
      if (sh.cl[i + 1] !== sh.cl[i]) pen += t.spacing;
    }
  }
  for (const want of misses.values()) {
    const g = rasterizeGlyph(fs.get(want.weight)!, want);
    addGlyph(want.key, g);
    held.set(want.key, g);
  }

  const images = await scaling;
  if (images.includes(null)) return undefined;
  let pixels: Uint8Array;
  if (parsed.shapes === undefined) {
    if (into && into.length === width * height * 4) {
      pixels = into;
      const first = parsed.els[0];
      const covers =
        first?.t === 'rect' &&
        first.v.x <= 0 &&
        first.v.y <= 0 &&
        first.v.x + first.v.w >= width &&
        first.v.y + first.v.h >= height &&
        first.v.colour[3] === 1;
      if (!covers) pixels.fill(0);
    } else pixels = new Uint8Array(width * height * 4);
  } else {
    const img = new Resvg(parsed.shapes, { font: { loadSystemFonts: false } }).render();
    pixels = img.pixels;
  }
  const words = new Uint32Array(pixels.buffer, pixels.byteOffset, width * height);
  let d = 0;
  for (let e = 0; e < parsed.els.length; e++) {
    const el = parsed.els[e]!;
    if (el.t === 'rect') {
      fillRect(pixels, words, width, height, el.v);
      continue;
    }
    if (el.t === 'image') {
      const im = images[e];
      if (im) drawImage(pixels, width, im);
      continue;
    }
    for (; d < draws.length && draws[d]!.el === e; d++) {
      const dr = draws[d]!;
      drawGlyph(pixels, words, width, height, held.get(dr.key)!, dr.ix, dr.iy, el.v.colour);
    }
  }
  return { pixels, width, height, bitmap: images.some((im) => im !== undefined) };
}
