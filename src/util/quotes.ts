// Quotation marks for a quote we wrap (card, caption, email): the outer pair is
// ours, and quotes inside it alternate level by level, as a Hong Kong paper
// prints them: 「…『…「…」…』…」; mainland style: “…‘…“…”…’…”.
// The writer's own marks inside the text (「」, 『』, “”, ‘’, "") are re-marked
// by depth; an unmatched closer (an apostrophe in Xi’an) is left alone.

export type QuoteStyle = 'hant' | 'hans';

const MARKS: Record<QuoteStyle, [[string, string], [string, string]]> = {
  hant: [
    ['「', '」'],
    ['『', '』'],
  ],
  hans: [
    ['“', '”'],
    ['‘', '’'],
  ],
};

const OPENERS = new Set(['「', '『', '“', '‘']);

/** The quote style of a locale: zh-Hans / zh-CN / zh-SG use “‘’”, everything else 「『』」. */
export const quoteStyle = (locale = 'zh-Hant'): QuoteStyle =>
  /^zh-(?:Hans|CN|SG)/i.test(locale) ? 'hans' : 'hant';

/** Which marks a closer may close: corner brackets with each other, curly quotes with their own. */
const CLOSES: Record<string, string[]> = {
  '」': ['「', '『'],
  '』': ['『', '「'],
  '”': ['“'],
  '’': ['‘'],
  '"': ['"'],
};

/** Open/close roles of the marks that pair up; unpaired marks get none and stay as written. */
function pairs(chars: string[]): Map<number, 'o' | 'c'> {
  const role = new Map<number, 'o' | 'c'>();
  const open: number[] = [];
  chars.forEach((c, i) => {
    const can = CLOSES[c];
    const k = can ? open.findLastIndex((j) => can.includes(chars[j]!)) : -1;
    if (k >= 0) {
      role.set(open[k]!, 'o');
      role.set(i, 'c');
      open.length = k;
    } else if (OPENERS.has(c) || c === '"') open.push(i);
  });
  return role;
}

/** Re-mark the quotes inside `text`, which sits at nesting `depth` (1 = inside one pair). */
export function nestQuotes(text: string, style: QuoteStyle = 'hant', depth = 1): string {
  const marks = MARKS[style];
  const chars = [...text];
  const role = pairs(chars);
  let level = depth;
  return chars
    .map((c, i) => {
      const r = role.get(i);
      if (r === 'o') return marks[level++ % 2]![0];
      if (r === 'c') return marks[--level % 2]![1];
      return c;
    })
    .join('');
}

/** A quote wrapped in the outer marks, the writer's own outer pair (if any) replaced. */
export function wrapQuote(text: string, style: QuoteStyle = 'hant'): string {
  let t = text.trim();
  const chars = [...t];
  // The writer already wrapped the whole quote (「a」, not 「a」和「b」): drop that pair.
  if (chars.length >= 2 && pairs(chars).get(0) === 'o' && closesAt(chars) === chars.length - 1)
    t = chars.slice(1, -1).join('').trim();
  const [o, c] = MARKS[style][0];
  return `${o}${nestQuotes(t, style, 1)}${c}`;
}

/** Index of the mark that closes the first one. */
function closesAt(chars: string[]): number {
  const role = pairs(chars);
  let level = 0;
  for (let i = 0; i < chars.length; i++) {
    const r = role.get(i);
    if (r === 'o') level++;
    else if (r === 'c' && --level === 0) return i;
  }
  return -1;
}
