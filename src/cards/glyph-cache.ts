import { Resvg } from '@resvg/resvg-js';
import { fillOutline, type Outline, parseOutline } from './glyph-fill.ts';

// The glyph-cache renderer's coverage bitmaps (raster.ts draws with them),
// one per (weight, glyph id, size, ¼-px offset): how a glyph is rasterized
// and how many of them a thread keeps. Kept on disk between builds by
// glyph-store.ts.

export const SUB = 4; // subpixel steps per pixel, both axes
const PAD = 2;

export interface Glyph {
  /** Coverage, w×h, 0–255; undefined for a blank glyph (space). */
  cov: Uint8Array | undefined;
  w: number;
  h: number;
  /** Where the bitmap's top-left sits relative to the integer pen position. */
  ox: number;
  oy: number;
}

/** What rasterizeGlyph needs of a HarfBuzz font (raster.ts holds the faces). */
export interface GlyphFace {
  upem: number;
  font: {
    glyphToPath(gid: number): string;
    glyphExtents(gid: number): { xBearing: number; yBearing: number; width: number; height: number } | null;
  };
}

export interface Want {
  key: string;
  weight: number;
  gid: number;
  size: number;
  fx: number;
  fy: number;
}

export const glyphKey = (weight: number, gid: number, size: number, fx: number, fy: number): string =>
  `${weight}|${gid}|${size}|${fx}|${fy}`;

// Bounded by the bytes of coverage held, not by count: every (size, ¼-px offset)
// of a CJK glyph is its own entry, and large sizes (story, square) make bitmaps
// of several kB, so a count bound alone let a worker hold ~100 MB.
//
// Two generations: new entries go into `young`; when it holds half the budget
// it becomes `old` (the one before is dropped), and an entry found in `old`
// moves back to `young`. What the cards keep drawing stays; a glyph not drawn
// for a generation goes. Until stop 31 the whole cache was emptied past a
// 12 MB budget: the sample's six formats need 13.5 MB (5,490 bitmaps), so a
// process drawing the edition again (the daemon, a second build) redrew ~5,600
// glyphs every pass (2.5 ms a card). 32 MB holds the sample's set twice over.
let budget = 32 * 1024 * 1024;
let young = new Map<string, Glyph>();
let old = new Map<string, Glyph>();
// Old holds at most what young held when it turned: together ≤ the budget.
let youngBytes = 0;
/** Keys rasterized in this thread that the glyph store (glyph-store.ts) has not written yet. */
const fresh = new Set<string>();

const entryBytes = (g: Glyph) => (g.cov?.length ?? 0) + 64; // + the entry itself

/** Set the cache's byte budget (tests: a tiny one drops everything on every card); returns the one before. */
export function setGlyphCacheBudget(bytes: number): number {
  const before = budget;
  budget = bytes;
  return before;
}

/** Drop every bitmap held (tests: draw as a fresh thread would). */
export function clearGlyphCache(): void {
  young = new Map();
  old = new Map();
  youngBytes = 0;
  fresh.clear();
}

/** Where a bitmap not in memory may be found before it is rasterized (glyph-store.ts). */
let backing: ((key: string) => Glyph | undefined) | undefined;
export function setGlyphBacking(find: typeof backing): void {
  backing = find;
}

export function getGlyph(key: string): Glyph | undefined {
  const g = young.get(key);
  if (g) return g;
  const o = old.get(key);
  if (o) {
    old.delete(key);
    put(key, o);
    return o;
  }
  const b = backing?.(key);
  if (b) put(key, b);
  return b;
}

function put(key: string, g: Glyph): void {
  if (youngBytes >= budget / 2) {
    old = young;
    young = new Map();
    youngBytes = 0;
  }
  young.set(key, g);
  youngBytes += entryBytes(g);
}

/** A bitmap rasterized here: cached, and written by the next glyph-store save. */
export function addGlyph(key: string, g: Glyph): void {
  put(key, g);
  fresh.add(key);
}

/** How many bitmaps were rasterized here and not yet taken by the store (tests). */
export const freshGlyphs = (): number => fresh.size;

/** The entries rasterized since the last call that are still cached; forgets them. */
export function takeFresh(): [string, Glyph][] {
  const out: [string, Glyph][] = [];
  for (const key of fresh) {
    const g = young.get(key) ?? old.get(key);
    if (g) out.push([key, g]);
  }
  fresh.clear();
  return out;
}

/** How a glyph's coverage is made: 'fill' (glyph-fill.ts, the default) or 'resvg' (an SVG of its path, as before; tests compare the two). */
export type GlyphEngine = 'fill' | 'resvg';

const outlines = new Map<string, Outline>();

export function rasterizeGlyph(face: GlyphFace, want: Want, engine: GlyphEngine = 'fill'): Glyph {
  const ext = face.font.glyphExtents(want.gid);
  const s = want.size / face.upem;
  if (!ext || ext.width === 0 || ext.height === 0) return { cov: undefined, w: 0, h: 0, ox: 0, oy: 0 };
  // Extents in font units (y up): left = xBearing, top = yBearing, height < 0.
  const left = Math.floor(ext.xBearing * s + want.fx) - PAD;
  const top = Math.floor(-ext.yBearing * s + want.fy) - PAD;
  const w = Math.ceil((ext.xBearing + ext.width) * s + want.fx) + PAD - left;
  const h = Math.ceil((-ext.yBearing - ext.height) * s + want.fy) + PAD - top;
  // Each glyph alone in its own small bitmap, never packed into an atlas: the
  // coverage must not depend on which other glyphs were missing at the time
  // (the PNG bytes must be the same in every process).
  let cov: Uint8Array;
  if (engine === 'fill') {
    const key = `${want.weight}|${want.gid}`;
    let o = outlines.get(key);
    if (!o) {
      o = parseOutline(face.font.glyphToPath(want.gid));
      if (outlines.size > 8192) outlines.clear();
      outlines.set(key, o);
    }
    cov = fillOutline(o, s, -s, want.fx - left, want.fy - top, w, h);
  } else {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><path fill="#000" transform="matrix(${s} 0 0 ${-s} ${want.fx - left} ${want.fy - top})" d="${face.font.glyphToPath(want.gid)}"/></svg>`;
    const px = new Resvg(svg, { font: { loadSystemFonts: false } }).render().pixels;
    cov = new Uint8Array(w * h);
    for (let i = 0; i < cov.length; i++) cov[i] = px[i * 4 + 3]!;
  }
  let any = false;
  for (let i = 0; i < cov.length && !any; i++) any = cov[i] !== 0;
  return { cov: any ? cov : undefined, w, h, ox: left, oy: top };
}
