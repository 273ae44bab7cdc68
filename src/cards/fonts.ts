import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// Fonts are read ONCE per process and the same ArrayBuffer objects are handed
// to satori on every call: satori caches the parsed font per object identity,
// so a fresh one per card would re-parse 7 MB of CJK outlines each time.

const require = createRequire(import.meta.url);
export const FONT_FAMILY = 'Noto Sans HK';

export interface FontFace {
  weight: 400 | 700;
  file: string;
  data: Buffer;
  metrics: FontMetrics;
}

/** Just enough of a TrueType parser for line breaking: which code points exist and how wide they are. */
export interface FontMetrics {
  unitsPerEm: number;
  /** hhea ascender and descender (negative), in font units: what satori's line boxes use. */
  ascender: number;
  descender: number;
  /** Advance width in font units, or undefined when the font has no glyph. */
  advance(cp: number): number | undefined;
  has(cp: number): boolean;
}

function parseMetrics(buf: Buffer): FontMetrics {
  const numTables = buf.readUInt16BE(4);
  const tables = new Map<string, number>();
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + i * 16;
    tables.set(buf.toString('latin1', rec, rec + 4), buf.readUInt32BE(rec + 8));
  }
  const head = tables.get('head')!;
  const hhea = tables.get('hhea')!;
  const hmtx = tables.get('hmtx')!;
  const cmap = tables.get('cmap')!;
  const unitsPerEm = buf.readUInt16BE(head + 18);
  const numHMetrics = buf.readUInt16BE(hhea + 34);
  // Prefer the full-repertoire subtable (3,10 format 12); else BMP (3,1 format 4).
  const n = buf.readUInt16BE(cmap + 2);
  let f12 = -1;
  let f4 = -1;
  for (let i = 0; i < n; i++) {
    const p = buf.readUInt16BE(cmap + 4 + i * 8);
    const e = buf.readUInt16BE(cmap + 6 + i * 8);
    const off = cmap + buf.readUInt32BE(cmap + 8 + i * 8);
    const fmt = buf.readUInt16BE(off);
    if (fmt === 12 && (p === 3 || p === 0) && f12 < 0) f12 = off;
    if (fmt === 4 && ((p === 3 && e === 1) || p === 0) && f4 < 0) f4 = off;
  }
  const map = new Map<number, number>();
  if (f12 >= 0) {
    const groups = buf.readUInt32BE(f12 + 12);
    for (let g = 0; g < groups; g++) {
      const r = f12 + 16 + g * 12;
      const start = buf.readUInt32BE(r);
      const end = buf.readUInt32BE(r + 4);
      const gid = buf.readUInt32BE(r + 8);
      for (let c = start; c <= end; c++) map.set(c, gid + c - start);
    }
  } else if (f4 >= 0) {
    const segX2 = buf.readUInt16BE(f4 + 6);
    const ends = f4 + 14;
    const starts = ends + segX2 + 2;
    const deltas = starts + segX2;
    const ranges = deltas + segX2;
    for (let s = 0; s < segX2 / 2; s++) {
      const end = buf.readUInt16BE(ends + s * 2);
      const start = buf.readUInt16BE(starts + s * 2);
      const delta = buf.readInt16BE(deltas + s * 2);
      const ro = buf.readUInt16BE(ranges + s * 2);
      for (let c = start; c <= end && c !== 0xffff; c++) {
        let gid: number;
        if (ro === 0) gid = (c + delta) & 0xffff;
        else {
          const at = ranges + s * 2 + ro + (c - start) * 2;
          gid = buf.readUInt16BE(at);
          if (gid) gid = (gid + delta) & 0xffff;
        }
        if (gid) map.set(c, gid);
      }
    }
  }
  const lastAdvance = buf.readUInt16BE(hmtx + (numHMetrics - 1) * 4);
  const advanceOfGlyph = (gid: number) =>
    gid < numHMetrics ? buf.readUInt16BE(hmtx + gid * 4) : lastAdvance;
  return {
    unitsPerEm,
    ascender: buf.readInt16BE(hhea + 4),
    descender: buf.readInt16BE(hhea + 6),
    has: (cp) => map.has(cp),
    advance: (cp) => {
      const gid = map.get(cp);
      return gid === undefined ? undefined : advanceOfGlyph(gid);
    },
  };
}

// Noto Sans HK is the face; Noto Sans SC is its fallback for the mainland
// simplified characters Noto Sans HK does not have (们, 这, 说, 刘, 杨…), so a
// mainland name or quote in a headline is drawn, not refused. satori falls back
// across every font it is given; our metrics do the same, in the same order.
type Family = 'hk' | 'sc';
const PACKAGES: Record<Family, { pkg: string; prefix: string }> = {
  hk: { pkg: '@expo-google-fonts/noto-sans-hk', prefix: 'NotoSansHK' },
  sc: { pkg: '@expo-google-fonts/noto-sans-sc', prefix: 'NotoSansSC' },
};
export const FALLBACK_FAMILY = 'Noto Sans SC';

function fontFile(weight: 400 | 700, family: Family = 'hk'): string {
  const { pkg, prefix } = PACKAGES[family];
  const dir = dirname(require.resolve(`${pkg}/package.json`));
  const name = weight === 400 ? `400Regular/${prefix}_400Regular.ttf` : `700Bold/${prefix}_700Bold.ttf`;
  return join(dir, name);
}

const load = (family: Family): FontFace[] =>
  ([400, 700] as const).map((weight) => {
    const file = fontFile(weight, family);
    const data = readFileSync(file);
    return { weight, file, data, metrics: parseMetrics(data) };
  });

let faces: FontFace[] | undefined;
let fallbackFaces: FontFace[] | undefined;

/** The two weights of the primary face (Noto Sans HK), loaded once per process (per worker thread). */
export function loadFonts(): FontFace[] {
  faces ??= load('hk');
  return faces;
}

/** The two weights of the fallback face (Noto Sans SC), loaded on first use. */
export function loadFallbackFonts(): FontFace[] {
  fallbackFaces ??= load('sc');
  return fallbackFaces;
}

export function fontFiles(): string[] {
  return [fontFile(400), fontFile(700), fontFile(400, 'sc'), fontFile(700, 'sc')];
}

type SatoriFont = { name: string; data: ArrayBuffer; weight: 400 | 700; style: 'normal' };
/**
 * The file's bytes as the ArrayBuffer they already live in. satori copies a
 * Buffer (or any view) it is given into a fresh ArrayBuffer before parsing —
 * another 13.6 MB held for the whole process for the two HK weights — but
 * uses an ArrayBuffer as it is (issue 16). readFileSync gives a large file its
 * own ArrayBuffer; a view into a shared one is copied once here.
 */
function ownBuffer(data: Buffer): ArrayBuffer {
  if (
    data.byteOffset === 0 &&
    data.byteLength === data.buffer.byteLength &&
    data.buffer instanceof ArrayBuffer
  )
    return data.buffer;
  return new Uint8Array(data).buffer;
}

let satoriFonts: SatoriFont[] | undefined;
let satoriFontsWithFallback: SatoriFont[] | undefined;
/**
 * satori's `fonts` option: the same objects every call. The fallback face is
 * added only for a card that needs it: parsing another 14 MB of outlines is
 * not worth it for the cards that never use them.
 */
export function satoriFontList(withFallback = false): SatoriFont[] {
  satoriFonts ??= loadFonts().map((f) => ({
    name: FONT_FAMILY,
    data: ownBuffer(f.data),
    weight: f.weight,
    style: 'normal',
  }));
  if (!withFallback) return satoriFonts;
  satoriFontsWithFallback ??= [
    ...satoriFonts,
    ...loadFallbackFonts().map(
      (f): SatoriFont => ({
        name: FALLBACK_FAMILY,
        data: ownBuffer(f.data),
        weight: f.weight,
        style: 'normal',
      }),
    ),
  ];
  return satoriFontsWithFallback;
}

/** Whether any character of `text` is drawn from the fallback face. */
export function usesFallback(text: string): boolean {
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x2e80) continue;
    if (!primaryHas(cp, 400) || !primaryHas(cp, 700)) return true;
  }
  return false;
}

const combined = new Map<number, FontMetrics>();
/** Metrics of the primary face, falling back to the fallback face for what it lacks. */
export function metricsFor(weight: number): FontMetrics {
  const i = weight >= 600 ? 1 : 0;
  let m = combined.get(i);
  if (!m) {
    const primary = loadFonts()[i]!.metrics;
    const fallback = () => loadFallbackFonts()[i]!.metrics;
    // Both are 1000 units per em; a fallback glyph's advance is scaled if that ever changes.
    m = {
      unitsPerEm: primary.unitsPerEm,
      ascender: primary.ascender,
      descender: primary.descender,
      has: (cp) => primary.has(cp) || fallback().has(cp),
      advance: (cp) => {
        const a = primary.advance(cp);
        if (a !== undefined) return a;
        const f = fallback();
        const b = f.advance(cp);
        return b === undefined ? undefined : (b * primary.unitsPerEm) / f.unitsPerEm;
      },
    };
    combined.set(i, m);
  }
  return m;
}

/** Whether the primary face itself has the character (else it is drawn from the fallback). */
export function primaryHas(cp: number, weight: number): boolean {
  return loadFonts()[weight >= 600 ? 1 : 0]!.metrics.has(cp);
}

// ── Emoji ──────────────────────────────────────────────────────────────────
// Twemoji SVGs, drawn as images by satori (loadAdditionalAsset 'emoji').
// Twemoji file names drop U+FE0F except inside ZWJ sequences; try both.

const emojiDir = () => dirname(require.resolve('@twemoji/svg/package.json'));
const emojiCache = new Map<string, string | null>();

export function emojiFile(segment: string): string | undefined {
  const cps = [...segment].map((c) => c.codePointAt(0)!.toString(16));
  const candidates = [cps.join('-'), cps.filter((c) => c !== 'fe0f').join('-')];
  for (const name of candidates) {
    const f = join(emojiDir(), `${name}.svg`);
    if (existsSync(f)) return f;
  }
  return undefined;
}

export function emojiDataUri(segment: string): string | undefined {
  let uri = emojiCache.get(segment);
  if (uri === undefined) {
    const f = emojiFile(segment);
    uri = f ? `data:image/svg+xml;base64,${readFileSync(f).toString('base64')}` : null;
    emojiCache.set(segment, uri);
  }
  return uri ?? undefined;
}

const EMOJI_RE = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;
/** Grapheme clusters that are emoji (drawn from twemoji, not from the text font). */
export function isEmojiCluster(g: string): boolean {
  return EMOJI_RE.test(g);
}

const segmenter = new Intl.Segmenter('zh-HK', { granularity: 'grapheme' });
export const graphemes = (s: string): string[] => Array.from(segmenter.segment(s), (x) => x.segment);

// Characters that need no glyph: spacing/format controls satori handles itself.
const isIgnorable = (cp: number) =>
  cp <= 0x20 ||
  (cp >= 0x200b && cp <= 0x200f) ||
  cp === 0x2060 ||
  (cp >= 0xfe00 && cp <= 0xfe0f) ||
  /\s/u.test(String.fromCodePoint(cp));

/**
 * The first character of `text` that neither font nor twemoji can draw, or
 * undefined. Checked before rendering so a card never shows a tofu box.
 */
export function firstMissingGlyph(text: string): string | undefined {
  const regular = metricsFor(400);
  const bold = metricsFor(700);
  for (const g of graphemes(text)) {
    if (isEmojiCluster(g)) {
      if (!emojiFile(g)) return g;
      continue;
    }
    for (const ch of g) {
      const cp = ch.codePointAt(0)!;
      // The font's own characters first: the ignorable test builds a string and runs a regex.
      if ((regular.has(cp) && bold.has(cp)) || isIgnorable(cp)) continue;
      return ch;
    }
  }
  return undefined;
}

export const codePointLabel = (ch: string) =>
  [...ch].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join(' ');
