import { unescapeXml } from '../util/xml.ts';
import type { ImageEl } from './raster-images.ts';

// satori's embedFont:false SVG read for raster.ts: its colours, its top-level
// <text>, plain <rect> and bitmap <image> elements, and the rest of the SVG
// (what resvg still draws). Undefined for an SVG the glyph-cache renderer does
// not draw (a text anywhere but top level, an unknown colour or attribute).

// ── Colours ────────────────────────────────────────────────────────────────

export type Rgba = [number, number, number, number];
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

export interface TextEl {
  x: number;
  y: number;
  size: number;
  weight: number;
  spacing: number;
  colour: Rgba;
  text: string;
}
export interface RectEl {
  x: number;
  y: number;
  w: number;
  h: number;
  colour: Rgba;
}
export type El = { t: 'text'; v: TextEl } | { t: 'rect'; v: RectEl } | { t: 'image'; v: ImageEl };

const ATTR_RE = /([a-zA-Z:-]+)="([^"]*)"/g;
function attrs(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const a of s.matchAll(ATTR_RE)) m.set(a[1]!, a[2]!);
  return m;
}

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

export interface Parsed {
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
export function parseCardSvg(svg: string): Parsed | undefined {
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
