import { nestQuotes, type QuoteStyle } from '../../util/quotes.ts';
import { analyze } from '../segment.ts';

// Text rules every caption shares, whatever the platform: brackets never nest
// inside their own kind, and a shortened text ends at a phrase boundary with an
// ellipsis, its open brackets closed.

/** Bracket families: a nested pair of the same family is rewritten (see flattenBrackets). */
const FAMILY: Record<string, { fam: string; open: boolean }> = {
  '（': { fam: 'paren', open: true },
  '(': { fam: 'paren', open: true },
  '）': { fam: 'paren', open: false },
  ')': { fam: 'paren', open: false },
  '【': { fam: 'lenticular', open: true },
  '】': { fam: 'lenticular', open: false },
  '〔': { fam: 'tortoise', open: true },
  '〕': { fam: 'tortoise', open: false },
  '［': { fam: 'square', open: true },
  '］': { fam: 'square', open: false },
  '《': { fam: 'title', open: true },
  '》': { fam: 'title', open: false },
};

const CLOSER: Record<string, string> = {
  '（': '）',
  '(': ')',
  '【': '】',
  '〔': '〕',
  '［': '］',
  '《': '》',
  '「': '」',
  '『': '』',
  '“': '”',
  '‘': '’',
};
const OPENERS = new Set(Object.keys(CLOSER));
const CLOSERS = new Set(Object.values(CLOSER));
/** Marks that end or separate a clause: a comma put next to one is redundant. */
const CLAUSE = /^[，、；：。！？,;:.!?\s]$/u;

/** Index pairs [open, close] of matched brackets of the families above (unmatched ones are left alone). */
function matched(cs: string[]): Map<number, number> {
  const pairs = new Map<number, number>();
  const stack: number[] = [];
  cs.forEach((c, i) => {
    const f = FAMILY[c];
    if (!f) return;
    if (f.open) stack.push(i);
    else {
      const k = stack.findLastIndex((j) => FAMILY[cs[j]!]!.fam === f.fam);
      if (k < 0) return;
      pairs.set(stack[k]!, i);
      stack.length = k;
    }
  });
  return pairs;
}

/**
 * No bracket inside one of its own kind, the way a Hong Kong sub-editor rewrites it:
 * （2025年（預計）） → （2025年，預計）; 《…《…》…》 → 《…〈…〉…》; 【…【專題】…】 → 【…專題，…】.
 */
export function flattenBrackets(text: string): string {
  const cs = [...text];
  const pairs = matched(cs);
  const out = [...cs];
  const depth = new Map<string, number>();
  const closeAt = new Map<number, string>();
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i]!;
    if (closeAt.has(i)) {
      const fam = closeAt.get(i)!;
      depth.set(fam, depth.get(fam)! - 1);
    }
    const close = pairs.get(i);
    if (close === undefined) continue;
    const fam = FAMILY[c]!.fam;
    const d = depth.get(fam) ?? 0;
    depth.set(fam, d + 1);
    closeAt.set(close, fam);
    if (d === 0) continue;
    if (fam === 'title') {
      out[i] = '〈';
      out[close] = '〉';
      continue;
    }
    // The inner pair becomes commas, none next to other clause marks or the outer brackets.
    const before = cs[i - 1] ?? '';
    const after = cs[close + 1] ?? '';
    out[i] = CLAUSE.test(before) || OPENERS.has(before) || i === 0 ? '' : '，';
    out[close] = CLAUSE.test(after) || CLOSERS.has(after) || close === cs.length - 1 ? '' : '，';
  }
  return out.join('');
}

/** A quote mark opened directly inside the same mark (「…「…」…」). */
function quoteInQuote(s: string): boolean {
  const open: string[] = [];
  for (const c of s) {
    if (c === '「' || c === '『' || c === '“' || c === '‘') {
      if (open.at(-1) === c) return true;
      open.push(c);
    } else if ('」』”’'.includes(c) && open.length) open.pop();
  }
  return false;
}

/** Quotes inside quotes alternate 「『「…」』」 (“‘…’” for zh-Hans); text already right is left as written. */
export const renestQuotes = (s: string, style: QuoteStyle = 'hant') =>
  quoteInQuote(s) ? nestQuotes(s, style, 0) : s;

/** analyze() collapses whitespace this way; a text cut by cluster index must be collapsed alike. */
export const oneLine = (s: string) => s.replace(/[ \t\r\n\f\v\u00a0]+/g, ' ').trim();

const TRAILING = /[，、；：,;:\s—–-]+$/u;

/** The ellipsis for what precedes it: …… after Chinese, … after Latin text. */
const ellipsisAfter = (s: string) => (/[\p{Script=Han}\u3000-\u303f\uff00-\uffef]$/u.test(s) ? '……' : '…');

/** Close the brackets and quotes a cut left open, innermost first. */
function closeOpen(s: string): string {
  const stack: string[] = [];
  for (const c of s) {
    if (OPENERS.has(c)) stack.push(c);
    else if (CLOSERS.has(c)) {
      const k = stack.findLastIndex(
        (o) => CLOSER[o] === c || (c === '」' && o === '『') || (c === '』' && o === '「'),
      );
      if (k >= 0) stack.length = k;
    }
  }
  return stack
    .reverse()
    .map((o) => CLOSER[o])
    .join('');
}

/** The text cut after cluster `n` (a boundary from boundaries()), with ellipsis and closers. */
function cutAfter(clusters: string[], n: number): string {
  const head = clusters.slice(0, n).join('').replace(TRAILING, '');
  // An opener the cut left dangling at the end goes too: 「…」 with nothing inside is noise.
  const kept = head.replace(/[「『（(【〔［《“‘]+$/u, '').replace(TRAILING, '');
  if (!kept) return '';
  return `${kept}${ellipsisAfter(kept)}${closeOpen(kept)}`;
}

/**
 * Cluster indices where a text may be cut: a phrase boundary both segmenters agree
 * on, a change of script, a space or punctuation (segment.ts levels ≥ 4) — never
 * inside a word, a figure with its unit, a URL or a grapheme cluster.
 */
export function boundaries(text: string, simplified = false): { clusters: string[]; at: number[] } {
  const a = analyze(oneLine(text), { simplified });
  const at: number[] = [];
  for (let i = 1; i < a.clusters.length; i++) if (a.level[i]! >= 4) at.push(i);
  return { clusters: a.clusters, at };
}

/**
 * The longest version of `text` that `ok` accepts: the whole text, or a prefix cut
 * at a boundary with an ellipsis; '' when not even the shortest prefix fits.
 */
export function shorten(
  text: string,
  ok: (s: string) => boolean,
  opts: { simplified?: boolean } = {},
): string {
  const t = oneLine(text);
  if (!t || ok(t)) return t;
  const { clusters, at } = boundaries(t, opts.simplified);
  // Longest first; a cut after punctuation reads best, so take the longest such cut
  // unless it throws away much more than the longest phrase cut.
  const fitting: { s: string; n: number; clause: boolean }[] = [];
  for (let k = at.length - 1; k >= 0; k--) {
    const n = at[k]!;
    const s = cutAfter(clusters, n);
    if (!s || !ok(s)) continue;
    fitting.push({ s, n, clause: /[，、；：。！？,;:!?\s]/u.test(clusters[n - 1]!) });
    if (fitting.length > 1 && fitting.some((f) => f.clause)) break;
    if (fitting.length >= 12) break;
  }
  if (!fitting.length) return '';
  const best = fitting[0]!;
  const clause = fitting.find((f) => f.clause);
  return clause && clause.n >= best.n * 0.75 ? clause.s : best.s;
}
