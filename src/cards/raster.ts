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
import { blendPixel, drawImage, type ImageEl, imagePixels } from './raster-images.ts';
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
// then renders the card the old way.

// ── Colours ────────────────────────────────────────────────────────────────

type Rgba = [number, number, number, number];
const NAMED: Record<string, Rgba> = {
  white: [255, 255, 255, 1],
  black: [0, 0, 0, 1],
  transparent: [0, 0, 0, 0],
  none: [0, 0, 0, 0],
};
const colourCache = new Map<string, Rgba | null>();
function parseColour(c: string): Rgba | undefined {
  let v = colourCache.get(c);
  if (v === undefined) {
    v = null;
    const s = c.trim().toLowerCase();
    const hex = /^#([0-9a-f]{3,8})$/.exec(s);
    const rgb = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+)(%?))?\s*\)$/.exec(s);
    if (NAMED[s]) v = NAMED[s];
    else if (hex) {
      const h = hex[1]!;
      if (h.length === 3 || h.length === 4) {
        const d = [...h].map((x) => Number.parseInt(x + x, 16));
        v = [d[0]!, d[1]!, d[2]!, h.length === 4 ? d[3]! / 255 : 1];
      } else if (h.length === 6 || h.length === 8) {
        const d = [0, 2, 4, 6].map((i) => Number.parseInt(h.slice(i, i + 2) || 'ff', 16));
        v = [d[0]!, d[1]!, d[2]!, d[3]! / 255];
      }
    } else if (rgb) {
      const a = rgb[4] === undefined ? 1 : Number(rgb[4]) / (rgb[5] ? 100 : 1);
      v = [Number(rgb[1]), Number(rgb[2]), Number(rgb[3]), a];
    }
    colourCache.set(c, v);
  }
  return v ?? undefined;
}

// ── SVG reading ────────────────────────────────────────────────────────────

interface TextEl {
  x: number;
  y: number;
  size: number;
  weight: number;
  spacing: number;
  colour: Rgba;
  text: string;
}
interface RectEl {
  x: number;
  y: number;
  w: number;
  h: number;
  colour: Rgba;
}
type El = { t: 'text'; v: TextEl } | { t: 'rect'; v: RectEl } | { t: 'image'; v: ImageEl };

const ATTR_RE = /([a-zA-Z:-]+)="([^"]*)"/g;
function attrs(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const a of s.matchAll(ATTR_RE)) m.set(a[1]!, a[2]!);
  return m;
}
const unescapeXml = (s: string) =>
  s.includes('&')
    ? s
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
        .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
        .replace(/&amp;/g, '&')
    : s;

const TEXT_ATTRS = new Set([
  'x',
  'y',
  'width',
  'height',
  'font-weight',
  'font-style',
  'font-size',
  'font-family',
  'letter-spacing',
  'fill',
]);
const RECT_ATTRS = new Set(['x', 'y', 'width', 'height', 'fill', 'fill-opacity']);
const IMAGE_ATTRS = new Set([
  'x',
  'y',
  'width',
  'height',
  'href',
  'preserveAspectRatio',
  'clip-path',
  'mask',
]);
// Bitmaps sharp decodes; an SVG image (emoji) stays with resvg.
const BITMAP_HREF_RE = /^data:image\/(?:jpeg|png|webp);base64,([A-Za-z0-9+/=]+)$/;
const URL_REF_RE = /^url\(#([^)]+)\)$/;

/** satori's whole-pixel clip and mask rectangles, by "clipPath#id" / "mask#id": "x y w h". */
type RectDefs = Map<string, string>;

/** An <image> we copy in ourselves, or undefined when resvg must draw it. */
function imageEl(a: Map<string, string>, rects: RectDefs): ImageEl | undefined {
  for (const k of a.keys()) if (!IMAGE_ATTRS.has(k)) return undefined;
  if (a.get('preserveAspectRatio') !== 'none') return undefined;
  const data = BITMAP_HREF_RE.exec(a.get('href') ?? '');
  if (!data) return undefined;
  const ref = (k: string) => {
    const v = a.get(k);
    if (v === undefined) return null; // absent
    const id = URL_REF_RE.exec(v)?.[1];
    return id === undefined ? undefined : rects.get(`${k === 'mask' ? 'mask' : 'clipPath'}#${id}`);
  };
  const clip = ref('clip-path');
  const mask = ref('mask');
  if (clip === undefined || mask === undefined) return undefined; // a clip or mask we cannot read
  // An overflow mask (opaque white) equal to the clip changes no pixel inside it; any other stays with resvg.
  if (mask !== null && mask !== clip) return undefined;
  const box = clip ?? mask;
  const [cx, cy, cw, ch] = box === null ? [] : box.split(' ').map(Number);
  const v = {
    x: Number(a.get('x') ?? 0),
    y: Number(a.get('y') ?? 0),
    w: Number(a.get('width')),
    h: Number(a.get('height')),
    href: data[0],
    clip: box === null ? undefined : { x: cx!, y: cy!, w: cw!, h: ch! },
  };
  if (![v.x, v.y, v.w, v.h].every(Number.isFinite) || v.w <= 0 || v.h <= 0) return undefined;
  return v;
}

interface Parsed {
  /** The SVG without its text elements (for resvg), or undefined when rects are all there is. */
  shapes: string | undefined;
  els: El[];
}

const TAG_RE = /<text\b([^>]*)>([^<]*)<\/text>|<rect\b([^>]*?)\/>|<(\/?)([a-zA-Z]+)\b[^>]*?(\/?)>/g;
// satori's clip path / overflow mask of one whole-pixel rectangle, read as one
// token where a tag opens (sticky: from TAG_RE's match on).
const RECT_DEF_RE =
  /<(clipPath|mask) id="([^"]+)"><rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"( fill="#fff")?\/><\/\1>/y;

/** Split satori's SVG into text elements and the rest; undefined if a text is anywhere but top level. */
function parse(svg: string): Parsed | undefined {
  const els: El[] = [];
  let depth = 0;
  let simple = true; // only top-level plain rects besides the text
  let pieces: string[] | undefined;
  let last = 0;
  // Whole-pixel rectangles of satori's clip paths and masks, by "clipPath#id" / "mask#id": "x y w h".
  const rects: RectDefs = new Map();
  TAG_RE.lastIndex = 0;
  for (let m = TAG_RE.exec(svg); m; m = TAG_RE.exec(svg)) {
    if ((m[5] === 'clipPath' || m[5] === 'mask') && m[4] === '') {
      RECT_DEF_RE.lastIndex = m.index;
      const def = RECT_DEF_RE.exec(svg);
      // A clip path must not be filled and a mask must be opaque white: else it is not a plain rectangle.
      if (def && (def[1] === 'mask') === (def[7] !== undefined)) {
        rects.set(`${def[1]}#${def[2]}`, `${def[3]} ${def[4]} ${def[5]} ${def[6]}`);
        TAG_RE.lastIndex = m.index + def[0].length;
        continue;
      }
    }
    if (m[5] === 'image' && m[4] === '' && m[6] === '/' && depth === 1 && simple) {
      const img = imageEl(attrs(m[0]), rects);
      if (img) {
        els.push({ t: 'image', v: img });
        continue;
      }
    }
    if (m[1] !== undefined) {
      if (depth !== 1) return undefined;
      const a = attrs(m[1]);
      for (const k of a.keys()) if (!TEXT_ATTRS.has(k)) return undefined;
      const text = unescapeXml(m[2]!);
      // Cut the element out of the SVG resvg sees.
      pieces ??= [];
      pieces.push(svg.slice(last, m.index));
      last = m.index + m[0].length;
      if (!text.trim()) continue;
      if ((a.get('font-style') ?? 'normal') !== 'normal') return undefined;
      const colour = parseColour(a.get('fill') ?? 'black');
      if (!colour) return undefined;
      els.push({
        t: 'text',
        v: {
          x: Number(a.get('x')),
          y: Number(a.get('y')),
          size: Number(a.get('font-size')),
          weight: Number(a.get('font-weight') ?? 400),
          spacing: Number(a.get('letter-spacing') ?? 0),
          colour,
          text,
        },
      });
    } else if (m[3] !== undefined) {
      if (!simple) continue;
      const a = attrs(m[3]);
      let ok = depth === 1;
      for (const k of a.keys()) if (!RECT_ATTRS.has(k)) ok = false;
      const c = parseColour(a.get('fill') ?? 'black');
      if (!ok || !c) {
        simple = false;
        continue;
      }
      els.push({
        t: 'rect',
        v: {
          x: Number(a.get('x') ?? 0),
          y: Number(a.get('y') ?? 0),
          w: Number(a.get('width')),
          h: Number(a.get('height')),
          colour: [c[0], c[1], c[2], c[3] * Number(a.get('fill-opacity') ?? 1)],
        },
      });
    } else {
      const name = m[5]!;
      const selfClosing = m[6] === '/';
      if (m[4] === '/') depth--;
      else {
        if (name !== 'svg' || depth !== 0) simple = false;
        if (!selfClosing) depth++;
      }
    }
  }
  if (simple) return { shapes: undefined, els };
  pieces ??= [];
  pieces.push(svg.slice(last));
  return { shapes: dropMasksEqualToClips(pieces.join(''), rects), els: els.filter((e) => e.t === 'text') };
}

// satori gives a clipped element (a photo in its slot, a portrait) both a
// clip path and an overflow mask of the same rectangle. On whole-pixel edges
// the mask (opaque white: luminance 1) changes no pixel, but resvg draws it as
// a canvas-sized layer: 2–3 ms of a photo og card, 4–6 ms of a story. Dropped
// only where both are one rectangle with the same integer x, y, width, height.
function dropMasksEqualToClips(svg: string, rects: RectDefs): string {
  if (!svg.includes('<mask')) return svg;
  return svg.replace(
    / clip-path="url\(#([^)]+)\)" mask="url\(#([^)]+)\)"/g,
    (all, clip: string, mask: string) => {
      const r = rects.get(`clipPath#${clip}`);
      return r !== undefined && r === rects.get(`mask#${mask}`) ? ` clip-path="url(#${clip})"` : all;
    },
  );
}

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
  const parsed = parse(svg);
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
