import { unescapeXml } from '../util/xml.ts';
import { CLOSE_BRACKETS, OPEN_BRACKETS } from './punct.ts';

// After layout, before pixels: every piece of text (and every emoji) satori
// placed must lie inside the card's safe area (the page padding), and no two
// may overlap (a long headline pushing into the footer). Read from satori's
// SVG with embedFont:false, where each run is a <text x y width font-size>
// and each emoji an <image>, so this costs a regex pass, not a render.

export interface InkBox {
  text: string;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface Overflow {
  text: string;
  /** 'outside': beyond the safe area; 'overlap': on top of other text. */
  kind: 'outside' | 'overlap';
  box: InkBox;
  other?: InkBox;
}

const num = (attrs: string, name: string) =>
  Number(new RegExp(`\\s${name}="([-\\d.e]+)"`).exec(attrs)?.[1] ?? NaN);

/** Ink boxes of the text runs and emoji in a satori SVG (embedFont:false). */
export function inkBoxes(svg: string): InkBox[] {
  const out: InkBox[] = [];
  for (const m of svg.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)) {
    const text = unescapeXml(m[2]!);
    if (!text.trim()) continue;
    const a = m[1]!;
    const x = num(a, 'x');
    const y = num(a, 'y');
    const w = num(a, 'width');
    const fs = num(a, 'font-size');
    // Trailing spaces in a run have no ink; the em box of CJK sits 0.88 above and 0.12 below
    // the baseline, Latin descenders reach about 0.2 below.
    const trail = text.length - text.trimEnd().length;
    const lead = text.length - text.trimStart().length;
    const spacePx = fs * 0.23;
    // Below the baseline: Latin descenders ~0.22 em, CJK ~0.12 em, digits and capitals nothing.
    const below = /[gjpqyQ,;()[\]{}@$|/\\_]/u.test(text)
      ? 0.22
      : /[^\p{Lu}\p{Nd}.%+\-−:#&*!?'"]/u.test(text)
        ? 0.12
        : 0.02;
    // A bracket alone in a run may be squashed (punct.ts): its blank half hangs outside its box.
    let x0 = x + lead * spacePx;
    let x1 = x + w - trail * spacePx;
    const core = text.trim();
    if (OPEN_BRACKETS.has(core)) x0 += fs / 2;
    if (CLOSE_BRACKETS.has(core)) x1 -= fs / 2;
    out.push({ text, x0, y0: y - fs * 0.88, x1, y1: y + fs * below });
  }
  for (const m of svg.matchAll(/<image([^>]*)\/?>/g)) {
    const a = m[1]!;
    // Emoji only: twemoji come as SVG data URIs; photos (jpeg/png) are placed by the layout itself.
    if (!/href="data:image\/svg\+xml/.test(a)) continue;
    const x = num(a, 'x');
    const y = num(a, 'y');
    const w = num(a, 'width');
    const h = num(a, 'height');
    // satori sizes the image to the line box; the glyph is 1em centred in it.
    const pad = Math.max(0, (h - w) / 2);
    out.push({ text: '(emoji)', x0: x, y0: y + pad, x1: x + w, y1: y + h - pad });
  }
  return out;
}

const TOL = 1.5;

/** The first text box outside `safe` or overlapping another, or undefined when all is well. */
export function findOverflow(
  svg: string,
  safe: { left: number; top: number; right: number; bottom: number },
): Overflow | undefined {
  const boxes = inkBoxes(svg);
  for (const b of boxes) {
    if (
      b.x0 < safe.left - TOL ||
      b.x1 > safe.right + TOL ||
      b.y0 < safe.top - TOL ||
      b.y1 > safe.bottom + TOL
    )
      return { text: b.text, kind: 'outside', box: b };
  }
  for (let i = 0; i < boxes.length; i++) {
    const a = boxes[i]!;
    for (let j = i + 1; j < boxes.length; j++) {
      const b = boxes[j]!;
      const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
      const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
      // Neighbours on one line touch (kerning); lines of one block do not overlap at line-height ≥ 1.1.
      const slack = 0.25 * Math.min(a.y1 - a.y0, b.y1 - b.y0);
      if (w > slack && h > slack) return { text: a.text, kind: 'overlap', box: a, other: b };
    }
  }
  return undefined;
}
