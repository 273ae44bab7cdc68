import { isEmojiCluster, metricsFor } from './fonts.ts';
import { CLOSE_BRACKETS, OPEN_BRACKETS, type Squash, squashInner, squashLine } from './punct.ts';
import { type Analysis, analyze, NO_END, NO_START } from './segment.ts';

// Line breaking for the cards, done here rather than left to satori so the rules
// are ours, testable and the same at every width (break levels: segment.ts):
// - no line starts with closing punctuation or ends with an opening bracket (禁則);
// - a Latin word, model name, URL or figure never breaks while it fits on a
//   line; a longer one first makes the text size down (fitText), then breaks at
//   hyphens, slashes, dots, camelCase and letter|digit, and only then between
//   letters, with a hyphen;
// - Chinese breaks between phrases (BudouX ∩ ICU words) where the line is
//   reasonably full, else between words, else between characters;
// - no line is ever wider than the width it was given.
// Each block is drawn as pre-broken lines, so satori cannot re-break them.
// Widths come from the font's own advance table; kerning is ignored, hence SLACK.

export { NO_END, NO_START };

const SLACK = 0.97;

export interface Token {
  text: string;
  /** Break allowed before this token (false: glued to the previous one). */
  breakBefore: boolean;
  space: boolean;
}

/** Unbreakable pieces (a Latin token or one grapheme), marking where a line may break. */
export function tokenize(text: string): Token[] {
  const a = analyze(text);
  const out: Token[] = [];
  let space = false;
  for (let i = 0; i < a.clusters.length; i++) {
    if (a.cls[i] === 'space') {
      space = true;
      continue;
    }
    const tok = a.tokens.find(([s]) => s === i);
    const end = tok ? tok[1] : i + 1;
    out.push({
      text: a.clusters.slice(i, end).join(''),
      breakBefore: (out.length > 0 && a.level[i]! > 0) || (space && a.level[i - 1]! > 0),
      space,
    });
    space = false;
    i = end - 1;
  }
  return out;
}

export interface Measure {
  size: number;
  weight: number;
  /** Extra space per character, in em. */
  letterSpacing?: number;
}

const emCache = new Map<number, Map<string, number>>();
/** Width of one grapheme in em. */
function em(g: string, weight: number): number {
  const w = weight >= 600 ? 700 : 400;
  let m = emCache.get(w);
  if (!m) {
    m = new Map();
    emCache.set(w, m);
  }
  let v = m.get(g);
  if (v === undefined) {
    const metrics = metricsFor(w);
    let units = 0;
    if (isEmojiCluster(g)) units = metrics.unitsPerEm;
    else for (const ch of g) units += metrics.advance(ch.codePointAt(0)!) ?? 0;
    // A cluster of nothing but format characters (ZWJ, VS) has no width.
    v = units / metrics.unitsPerEm;
    m.set(g, v);
  }
  return v;
}

/** Width of `text` set as one line, punctuation squashed as it is drawn (punct.ts). */
export function measure(text: string, m: Measure): number {
  const cs = analyze(text).clusters;
  const sq = squashLine(cs);
  let w = 0;
  cs.forEach((g, i) => {
    w += (em(g, m.weight) - (sq[i] ? 0.5 : 0) + (m.letterSpacing ?? 0)) * m.size;
  });
  return w;
}

/** A line as cluster indices [start, end) plus whether it ends with an added hyphen. */
interface Span {
  start: number;
  end: number;
  hyphen: boolean;
}

interface Ctx {
  a: Analysis;
  /** Prefix sums of cluster widths in px. */
  x: Float64Array;
  limit: number;
  hy: number;
  /** Effective level at each boundary for this width. */
  lev: Uint8Array;
  /** Squashed between neighbours already (punct.ts); half an em. */
  sq: Squash[];
  half: number;
}

const gluedEnd = (a: Analysis, e: number) => {
  while (e < a.clusters.length && a.cls[e] === 'close' && a.level[e] === 0) e++;
  return e;
};
const gluedStart = (a: Analysis, s: number) => {
  while (s > 0 && a.cls[s - 1] === 'open' && a.level[s] === 0) s--;
  return s;
};

function context(text: string, width: number, m: Measure): Ctx {
  const a = analyze(text);
  const n = a.clusters.length;
  const x = new Float64Array(n + 1);
  const sq = squashInner(a.clusters);
  for (let i = 0; i < n; i++)
    x[i + 1] = x[i]! + (em(a.clusters[i]!, m.weight) - (sq[i] ? 0.5 : 0) + (m.letterSpacing ?? 0)) * m.size;
  const limit = width * SLACK;
  const lev = a.level.slice();
  // Inside a token that fits on a line: never; inside one that does not: its own break points.
  // A token counts with the punctuation glued to it (「H100」，): that whole run must fit.
  for (const [s, e] of a.tokens)
    if (x[gluedEnd(a, e)]! - x[gluedStart(a, s)]! > limit)
      for (let i = s + 1; i < e; i++) lev[i] = a.inner[i]!;
  return {
    a,
    x,
    limit,
    hy: (em('-', m.weight) + (m.letterSpacing ?? 0)) * m.size,
    lev,
    sq,
    half: m.size / 2,
  };
}

/** Width of clusters [s, e) set as a line: no spaces at either end, a line-initial opener and a line-final closer squashed. */
function spanWidth(c: Ctx, s: number, e: number): number {
  while (s < e && c.a.cls[s] === 'space') s++;
  while (e > s && c.a.cls[e - 1] === 'space') e--;
  let w = c.x[e]! - c.x[s]!;
  if (s < e && !c.sq[s] && OPEN_BRACKETS.has(c.a.clusters[s]!)) w -= c.half;
  if (e > s && !c.sq[e - 1] && CLOSE_BRACKETS.has(c.a.clusters[e - 1]!)) w -= c.half;
  return w;
}

/** What a break at each level costs: spaces and phrase boundaries are free, inside a word is dear. */
const LEVEL_COST = [100, 7, 2.5, 1, 0.3, 0];
const LINE_COST = 2;
const RAGGED_COST = 10;

/**
 * Lines by total fit (Knuth–Plass, ragged right): of all ways to break within
 * the width, the one with the least cost — a line each, a break inside a word
 * or phrase by its level, a short line by its raggedness, an orphaned last
 * line extra. Greedy filling cannot see that breaking one line earlier keeps
 * 「技術追趕者」 whole on the next; this can.
 */
function layout(c: Ctx, limit = c.limit): Span[] {
  const { a, lev } = c;
  const n = a.clusters.length;
  const skip = (i: number) => {
    while (i < n && a.cls[i] === 'space') i++;
    return i;
  };
  const first = skip(0);
  if (first >= n) return [];
  const best = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY);
  const from = new Int32Array(n + 1).fill(-1);
  const endAt = new Int32Array(n + 1).fill(-1);
  best[first] = 0;
  let final = Number.POSITIVE_INFINITY;
  let finalStart = -1;
  for (let s = first; s < n; s++) {
    if (best[s] === Number.POSITIVE_INFINITY) continue;
    const relax = (b: number, penalty: number) => {
      const hy = a.hyphen[b] && lev[b] === 1 ? c.hy : 0;
      const w = spanWidth(c, s, b) + hy;
      const ns = skip(b);
      if (ns >= n) {
        // The last line: no raggedness, but an orphan costs.
        const orphaned = s > first && (visible(c, s, b) <= 2 || w < limit * 0.2);
        const cost = best[s]! + LINE_COST + penalty + (orphaned ? 6 : 0);
        if (cost < final) {
          final = cost;
          finalStart = s;
          endAt[n] = b;
        }
        return;
      }
      const slack = (limit - w) / limit;
      const cost = best[s]! + LINE_COST + penalty + RAGGED_COST * slack * slack;
      if (cost < best[ns]!) {
        best[ns] = cost;
        from[ns] = s;
        endAt[ns] = b;
      }
    };
    let any = false;
    let farthest = -1;
    for (let b = s + 1; b <= n; b++) {
      const w = spanWidth(c, s, b) + (b < n && a.hyphen[b] && lev[b] === 1 ? c.hy : 0);
      if (w > limit) break;
      farthest = b;
      if (b === n) {
        relax(b, 0);
        any = true;
      } else if (lev[b]! > 0) {
        relax(b, LEVEL_COST[lev[b]!]!);
        any = true;
      }
    }
    if (!any) {
      // Nothing legal fits (a glued run wider than the line, 38.58%， in a narrow
      // column): break inside its token if we can, else at the farthest fit, else
      // after one cluster — a closer never starts the next line if avoidable.
      let b = -1;
      for (let k = farthest; b < 0 && k > s; k--) if (a.inner[k]! > 0 && a.cls[k] !== 'close') b = k;
      for (let k = farthest; b < 0 && k > s; k--) if (a.cls[k] !== 'close' && a.cls[k - 1] !== 'open') b = k;
      if (b < 0) b = farthest > s ? farthest : s + 1;
      relax(b, LEVEL_COST[0]! + (a.cls[b] === 'close' ? 100 : 0));
    }
  }
  const lines: Span[] = [];
  let s = finalStart;
  let end = endAt[n]!;
  while (s >= 0) {
    lines.unshift({ start: s, end, hyphen: end < n && Boolean(a.hyphen[end]) && lev[end] === 1 });
    end = endAt[s]!;
    s = from[s]!;
  }
  return lines;
}

/** Graphemes on a line that are not spaces or closing marks. */
function visible(c: Ctx, s: number, e: number): number {
  let k = 0;
  for (let i = s; i < e; i++) if (c.a.cls[i] !== 'space' && c.a.cls[i] !== 'close') k++;
  return k;
}

function lineText(a: Analysis, l: Span): string {
  return (a.clusters.slice(l.start, l.end).join('') + (l.hyphen ? '-' : '')).trim();
}

/** Lines of `text` no wider than `width`, by the rules above. */
export function breakLines(text: string, width: number, m: Measure): string[] {
  const c = context(text, width, m);
  return layout(c).map((l) => lineText(c.a, l));
}

export interface FitOptions {
  weight: number;
  /** Largest and smallest font size (px); tried largest first in `step` px steps. */
  max: number;
  min: number;
  step?: number;
  width: number;
  maxLines: number;
  /** Height the block may take (px); with lineHeight it caps the lines at each size. */
  maxHeight?: number;
  lineHeight?: number;
  letterSpacing?: number;
}

export interface Fitted {
  lines: string[];
  size: number;
  truncated: boolean;
}

/** A last line that a careful designer would not leave: one or two graphemes, or under a fifth of the line. */
function orphan(c: Ctx, lines: Span[], limit: number): boolean {
  if (lines.length < 2) return false;
  const last = lines.at(-1)!;
  const visible = c.a.cls.slice(last.start, last.end).filter((k) => k !== 'space' && k !== 'close').length;
  return visible <= 2 || spanWidth(c, last.start, last.end) < limit * 0.2;
}

/** Move the last break back to an earlier word or phrase boundary so the last line is not an orphan. */
function pullBack(c: Ctx, lines: Span[]): Span[] | undefined {
  if (lines.length < 2) return undefined;
  const prev = lines.at(-2)!;
  const n = c.a.clusters.length;
  for (let b = prev.end - 1; b > prev.start; b--) {
    if (c.lev[b]! < 2) continue;
    if (spanWidth(c, prev.start, b) < c.limit * 0.2) break;
    let s = b;
    while (s < n && c.a.cls[s] === 'space') s++;
    if (spanWidth(c, s, n) > c.limit) break;
    const out = [
      ...lines.slice(0, -2),
      { start: prev.start, end: b, hyphen: false },
      { start: s, end: n, hyphen: false },
    ];
    if (!orphan(c, out, c.limit)) return out;
  }
  return undefined;
}

/** The narrowest width that keeps the same number of lines: ragged lines evened out. */
function balance(c: Ctx, lines: Span[]): Span[] {
  const target = lines.length;
  // Never so narrow that a token which fits the real width would have to break.
  let widest = 0;
  for (const [s, e] of c.a.tokens) {
    const w = c.x[gluedEnd(c.a, e)]! - c.x[gluedStart(c.a, s)]!;
    if (w <= c.limit) widest = Math.max(widest, w);
  }
  let lo = Math.max(c.limit * 0.5, widest);
  let hi = c.limit;
  let best = lines;
  for (let k = 0; k < 10; k++) {
    const mid = (lo + hi) / 2;
    const l = layout(c, mid);
    if (l.length <= target) {
      hi = mid;
      best = l;
    } else lo = mid;
  }
  return orphan(c, best, c.limit) ? lines : best;
}

/** Any token wider than the line (which would have to break inside). */
const tokenTooWide = (c: Ctx) =>
  c.a.tokens.some(([s, e]) => c.x[gluedEnd(c.a, e)]! - c.x[gluedStart(c.a, s)]! > c.limit);

function linesAllowed(o: FitOptions, size: number): number {
  const byHeight = o.maxHeight ? Math.floor((o.maxHeight + 0.5) / (size * (o.lineHeight ?? 1.3))) : Infinity;
  return Math.max(1, Math.min(o.maxLines, byHeight));
}

/**
 * Size down within bounds until the text fits; a token wider than the line and
 * an orphaned last line are each worth a size step before we break or balance;
 * at the smallest size, clamp with an ellipsis at a grapheme boundary.
 */
export function fitText(text: string, o: FitOptions): Fitted {
  const step = o.step ?? 2;
  const m = (size: number) => ({ size, weight: o.weight, letterSpacing: o.letterSpacing });
  let fallback: Fitted | undefined;
  for (let size = o.max; size >= o.min; size -= step) {
    const c = context(text, o.width, m(size));
    if (size - step >= o.min && tokenTooWide(c)) continue;
    let lines = layout(c);
    if (lines.length > linesAllowed(o, size)) continue;
    if (orphan(c, lines, c.limit)) lines = pullBack(c, lines) ?? balance(c, lines);
    const fitted = { lines: lines.map((l) => lineText(c.a, l)), size, truncated: false };
    if (!orphan(c, lines, c.limit)) return fitted;
    fallback ??= fitted;
    if (fallback.size - size >= step * 4) break;
  }
  if (fallback) return fallback;
  return clamp(text, o);
}

function clamp(text: string, o: FitOptions): Fitted {
  const c = context(text, o.width, { size: o.min, weight: o.weight, letterSpacing: o.letterSpacing });
  const all = layout(c);
  const keep = all.slice(0, linesAllowed(o, o.min));
  const last = keep.at(-1);
  if (!last) return { lines: [], size: o.min, truncated: text.trim() !== '' };
  const ell = measureEllipsis(o);
  const { a } = c;
  // Never leave an opener, a comma or a space hanging before the ellipsis.
  const hangs = (i: number) => /^[\s「『（【〔《〈([{‘“，、；：,;:—-]$/u.test(a.clusters[i - 1] ?? '');
  let end = last.end;
  while (end > last.start && (spanWidth(c, last.start, end) + ell > c.limit || hangs(end))) end--;
  // Prefer a word or phrase boundary when one is close (no "Qwen2.5-VL-72B-Inst…").
  for (
    let b = end;
    b > last.start && spanWidth(c, last.start, b) > 0.7 * spanWidth(c, last.start, end);
    b--
  ) {
    if (c.lev[b]! >= 2 && !hangs(b)) {
      end = b;
      break;
    }
  }
  const lines = keep.slice(0, -1).map((l) => lineText(a, l));
  lines.push(`${a.clusters.slice(last.start, end).join('').trim()}…`);
  return { lines, size: o.min, truncated: true };
}

const measureEllipsis = (o: FitOptions) => (em('…', o.weight) + (o.letterSpacing ?? 0)) * o.min;
