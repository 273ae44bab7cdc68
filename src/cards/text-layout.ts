import LineBreaker from 'linebreak';
import { escapeXml } from '../util/xml.ts';
import { FONT_FAMILY, loadFonts } from './fonts.ts';
import { type Face, type Hb, shape } from './shaping.ts';

// One plain text laid out the way satori 0.63 lays it out (its
// text/index.ts flow(), for `white-space: pre`, left-aligned, one face), and
// the <text> pieces satori would write for it. Which texts of a card are
// taken, and where the pieces go in the SVG: text-plan.ts.

const FAMILY = FONT_FAMILY.toLowerCase();
const wordSeg = new Intl.Segmenter(undefined, { granularity: 'word' });

/** The style a taken text is laid out with (inherited by its element, as satori inherits it). */
export interface TextStyle {
  fontSize: number;
  fontWeight: number | 'normal';
  color: string;
  lineHeight: number | 'normal';
  letterSpacing: number;
}

/** A laid-out text's <text> pieces, once satori has placed its element at (left, top). */
export type DrawText = (left: number, top: number, canvas: { width: number; height: number }) => string;

// Widths by face, size and letter spacing (satori's measurer keeps them per text node; its shaping per process).
const widthCaches = new Map<string, Map<string, number>>();
function widthCache(key: string): Map<string, number> {
  let m = widthCaches.get(key);
  if (!m) {
    if (widthCaches.size >= 256) widthCaches.clear();
    m = new Map();
    widthCaches.set(key, m);
  } else if (m.size >= 4096) m.clear();
  return m;
}

/** satori's flow() for `white-space: pre`, left-aligned, one face; then its <text> pieces. */
export function layText(
  content: string,
  st: TextStyle,
  hb: Hb,
  face: Face,
): { width: number; height: number; draw: DrawText } {
  const { fontSize, letterSpacing } = st;
  const m = loadFonts()[st.fontWeight === 700 ? 1 : 0]!.metrics;
  const upem = face.upem;
  // One face: satori's engine.height() and engine.baseline() are the same for every word.
  const ascender = (m.ascender / upem) * fontSize;
  const descender = (m.descender / upem) * fontSize;
  const lineBox =
    st.lineHeight === 'normal' ? ascender - descender + (0 / upem) * fontSize : fontSize * st.lineHeight;
  // Like Chrome: ascent and descent rounded to pixels, half the leading floored.
  const baseline =
    Math.round(ascender) + Math.floor((lineBox - Math.round(ascender) - Math.round(-descender)) / 2);
  const widths = widthCache(`${st.fontWeight}|${fontSize}|${letterSpacing}`);
  // satori's engine.measure (its measureText joins the graphemes back into the same string).
  const measure = (s: string): number => {
    let w = widths.get(s);
    if (w === undefined) {
      const g = shape(hb, face, s);
      let units = 0;
      let clusters = 0;
      for (let i = 0; i < g.ax.length; i++) {
        units += g.ax[i]!;
        if (i + 1 >= g.cl.length || g.cl[i + 1] !== g.cl[i]) clusters++;
      }
      w = (units / upem) * fontSize + letterSpacing * clusters;
      widths.set(s, w);
    }
    return w;
  };

  // splitByBreakOpportunities (satori utils.ts)
  const words: string[] = [];
  const requiredBreaks: boolean[] = [false];
  const breaker = new LineBreaker(content);
  let last = 0;
  for (let bk = breaker.nextBreak(); bk; bk = breaker.nextBreak()) {
    words.push(content.slice(last, bk.position));
    requiredBreaks.push(bk.required);
    last = bk.position;
  }

  // Left-aligned: satori's line widths and trailing spaces only place other alignments.
  const baselines: number[] = [];
  const texts: string[] = [];
  const at: { x: number; y: number; width: number; line: number }[] = [];
  let lines = 0;
  let maxWidth = 0;
  let h = 0;
  let currentWidth = 0;
  let currentLineHeight = 0;
  let currentBaselineOffset = 0;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const w = measure(word);
    if (requiredBreaks[i]) {
      baselines.push(currentBaselineOffset);
      lines++;
      // An empty line before a break is one line box high, unrounded (as satori).
      h += currentLineHeight === 0 ? lineBox : currentLineHeight;
      currentWidth = w;
      currentLineHeight = w ? Math.round(lineBox) : 0;
      currentBaselineOffset = w ? baseline : 0;
    } else {
      currentWidth += w;
      if (Math.round(lineBox) > currentLineHeight) {
        currentLineHeight = Math.round(lineBox);
        currentBaselineOffset = baseline;
      }
    }
    maxWidth = Math.max(maxWidth, currentWidth);
    let x = currentWidth - w;
    if (w === 0) at.push({ y: h, x, width: 0, line: lines });
    else {
      for (const seg of wordSegments(word)) {
        const width = measure(seg);
        texts.push(seg);
        at.push({ y: h, x, width, line: lines });
        x += width;
      }
    }
  }
  if (currentWidth) {
    h += currentLineHeight;
    baselines.push(currentBaselineOffset);
  }

  const spacing = letterSpacing ? ` letter-spacing="${letterSpacing}"` : '';
  const tail = ` height="${lineBox}" font-weight="${st.fontWeight}" font-style="normal" font-size="${fontSize}" font-family="${FAMILY}"${spacing} fill="${st.color}">`;
  const lineMargin = 2 * fontSize;
  return {
    width: Math.ceil(maxWidth),
    height: h,
    draw(left, top, canvas) {
      let out = '';
      // satori indexes pieces by its texts, and a zero-width word has a place but no text: kept as it does.
      for (let i = 0; i < texts.length; i++) {
        const p = at[i];
        if (!p) continue;
        // satori's culling (culling.ts isOutside, across the image's width): lines wholly above or below it are not drawn.
        const grow = lineMargin + Math.abs(baselines[p.line] || 0) + 1;
        const y0 = top + p.y;
        if (y0 + grow <= 0 || y0 - grow >= canvas.height) continue;
        let topOffset = p.y;
        topOffset += baseline + (baselines[p.line]! - baseline);
        out += `<text x="${left + p.x}" y="${top + topOffset}" width="${p.width}"${tail}${escapeXml(texts[i]!)}</text>`;
      }
      return out;
    },
  };
}

// Intl's segmenter is slow (~20 % of this file's time uncached); satori keeps
// its segments too. CJK words are mostly single characters: few distinct keys.
const segmentCache = new Map<string, string[]>();

/** satori's segment(word, 'word'): Intl word segments, a no-break space joining its neighbours. */
function wordSegments(word: string): string[] {
  let hit = segmentCache.get(word);
  if (!hit) {
    if (segmentCache.size >= 10_000) segmentCache.clear();
    hit = segmentWord(word);
    segmentCache.set(word, hit);
  }
  return hit;
}

function segmentWord(word: string): string[] {
  const seg = Array.from(wordSeg.segment(word), (s) => s.segment);
  const out: string[] = [];
  for (let i = 0; i < seg.length; ) {
    const s = seg[i]!;
    if (s === '\u00a0') {
      const prev = i === 0 ? '' : out.pop()!;
      const next = i === seg.length - 1 ? '' : seg[i + 1]!;
      out.push(`${prev}\u00a0${next}`);
      i += 2;
    } else {
      out.push(s);
      i++;
    }
  }
  return out;
}
