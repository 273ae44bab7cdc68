import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { graphemes } from './fonts.ts';

// Where a line may break, decided once per text on grapheme clusters
// (Intl.Segmenter): ZWJ sequences, flags, keycaps, skin tones, variation
// selectors and combining marks are single clusters, so no rule below can
// split one. Each boundary gets a level; the line breaker (typeset.ts) weighs a
// break's level against short lines and extra lines:
//   5  a space (headlines separate phrases with one: 中國AI突飛猛進 專利量全球居首)
//   4  a phrase boundary: BudouX and the ICU word segmenter agree, or a change
//      of script (Han | Latin word | emoji)
//   3  inside a too-long Latin token: after a hyphen, after . ? , and before
//      / _ # & =, camelCase, letter|digit
//   2  a boundary only one of BudouX and ICU sees
//   1  inside a word, or inside a short quoted term (「規則定義者」, 《…報告》)
//      (last resort); between two Latin letters it costs a hyphen
//   0  never: kinsoku (禁則), inside a Latin word/figure that fits, after a space
// Latin tokens (words, model names, URLs, figures with units, dates) keep their
// inner levels only for a width they do not fit in (see typeset.ts).

export const NO_START = new Set(
  [
    ...'」』）】〕》〉〗｝］，。、；：！？‧・…‥％)]},.;:!?%ー々〻ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ',
  ].concat(['’', '”', '〜', '～']),
);
export const NO_END = new Set([...'「『（【〔《〈〖｛［([{'].concat(['‘', '“']));
/** Pairs that never break in the middle (——, ……). */
const NO_SPLIT_PAIR = new Set(['—', '…', '‥', '－']);

const CJK = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}`;
const HAN_RE = new RegExp(`^[${CJK}]`, 'u');
/** A letter or digit of a word that is not written in a CJK script (Latin, Greek, Cyrillic…). */
const W = String.raw`(?:(?![${CJK}])[\p{L}\p{Nd}][\p{M}]*)`;
const UNIT_CHARS = '萬億兆千百元圓人件家位個倍年月日時分秒週周歲次台臺輛噸米吋公里斤克項席款名';
const TOKEN_RE = new RegExp(
  [
    // A date: 2025年11月10日, 11月10日.
    String.raw`\d{1,4}年\d{1,2}月(?:\d{1,2}日)?|\d{1,2}月\d{1,2}日`,
    // A URL, up to a space, a Han character or CJK punctuation (trailing . , ) are trimmed below).
    String.raw`(?:https?:\/\/|www\.)[^\s\p{Script=Han}「」『』（）《》〈〉【】，。、；：！？“”‘’<>"]+`,
    // A word, model name or figure: 第15位, HK$1.5億, −3.2%, DeepSeek-R1, Qwen2.5-VL-72B.
    String.raw`(?:第)?(?:HK\$|US\$|[$€£¥])?(?:[−-](?=\d))?${W}+(?:[-–.,'’/&+_:·@#=~]${W}+)*[%‰]?(?:(?<=[\d%‰])[${UNIT_CHARS}]+)?`,
  ].join('|'),
  'uy',
);

export type ClusterClass = 'space' | 'han' | 'word' | 'emoji' | 'open' | 'close' | 'other';

export interface Analysis {
  clusters: string[];
  cls: ClusterClass[];
  /** level[i]: break before cluster i. */
  level: Uint8Array;
  /** For boundaries inside a token: the level when the token is too wide (else 0). */
  inner: Uint8Array;
  /** A break here (inside a word) adds a hyphen at the line end. */
  hyphen: Uint8Array;
  /** Token spans [start, end) in cluster indices. */
  tokens: [number, number][];
}

const EMOJI_RE = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;
const SPACE_RE = /^[\s\u3000]+$/u;

function classify(g: string): ClusterClass {
  if (SPACE_RE.test(g)) return 'space';
  if (NO_START.has(g)) return 'close';
  if (NO_END.has(g)) return 'open';
  if (EMOJI_RE.test(g)) return 'emoji';
  if (HAN_RE.test(g)) return 'han';
  if (/^[\p{L}\p{Nd}]/u.test(g)) return 'word';
  return 'other';
}

type Parser = { parse(s: string): string[] };
let hant: Parser | undefined;
let hans: Parser | undefined;

// BudouX's phrase parser without its package index. The index loads every
// language's model and, for its HTML processor, linkedom (a whole DOM): ~250
// ms of every process that segments a headline, a card worker's start
// included, against ~20 ms for the Parser class and the one Chinese model
// used. It is the class and model object loadDefault…Parser() builds on
// (HTMLProcessingParser adds HTML methods only): same phrases
// (tests/unit/cards-budoux.test.ts). Its CommonJS build, by path: the package
// exports only its index.
const require = createRequire(import.meta.url);
const budouxDir = dirname(require.resolve('budoux'));
export function budouxParser(model: 'zh-hant' | 'zh-hans'): Parser {
  const { Parser: P } = require(join(budouxDir, 'parser.js')) as { Parser: new (m: unknown) => Parser };
  const { model: m } = require(join(budouxDir, 'data', 'models', `${model}.js`)) as { model: unknown };
  return new P(m);
}
const wordSeg = new Intl.Segmenter('zh-Hant-HK', { granularity: 'word' });

/** Boundaries (cluster indices relative to the run) a segmenter reports inside a Han run. */
function boundaries(run: string[], parts: string[]): Set<number> {
  const out = new Set<number>();
  // Map code-unit offsets back to cluster indices; a cut inside a cluster is ignored.
  const at = new Map<number, number>();
  let off = 0;
  run.forEach((c, i) => {
    at.set(off, i);
    off += c.length;
  });
  off = 0;
  for (const p of parts.slice(0, -1)) {
    off += p.length;
    const i = at.get(off);
    if (i !== undefined && i > 0) out.add(i);
  }
  return out;
}

function hanLevels(run: string[], start: number, level: Uint8Array, simplified: boolean): void {
  if (run.length < 2) return;
  const text = run.join('');
  if (simplified) hans ??= budouxParser('zh-hans');
  else hant ??= budouxParser('zh-hant');
  const parser = (simplified ? hans : hant)!;
  const phrase = boundaries(run, parser.parse(text));
  const word = boundaries(
    run,
    Array.from(wordSeg.segment(text), (s) => s.segment),
  );
  // Two-character words either segmenter keeps whole (BudouX: 高管; ICU: 規則) are
  // never a good place to break, whatever the other one says.
  const inPair = new Set<number>();
  const pairs = (cuts: Set<number>) => {
    const at = [0, ...[...cuts].sort((x, y) => x - y), run.length];
    for (let k = 1; k < at.length; k++) if (at[k]! - at[k - 1]! === 2) inPair.add(at[k - 1]! + 1);
  };
  pairs(phrase);
  pairs(word);
  for (let i = 1; i < run.length; i++) {
    const both = word.has(i) && phrase.has(i);
    // Where only one of them sees a boundary the break is a poor one.
    level[start + i] = both ? 4 : inPair.has(i) ? 1 : word.has(i) || phrase.has(i) ? 2 : 1;
  }
}

const isLetter = (g: string) => /^\p{L}/u.test(g);
const LATIN_LETTER = new RegExp(`^(?![${CJK}])\\p{L}`, 'u');
/** Letters that take a hyphen when a word breaks between them (not Han: 萬|億 takes none). */
const isWordLetter = (g: string) => LATIN_LETTER.test(g);
const isDigit = (g: string) => /^\p{Nd}/u.test(g);
const isUpper = (g: string) => /^\p{Lu}/u.test(g);
const isLower = (g: string) => /^\p{Ll}/u.test(g);

/** Break points inside a token that does not fit on a line. */
function tokenInner(cs: string[], s: number, e: number, a: Analysis): void {
  const url = /^(?:https?:|www\.)/.test(cs.slice(s, s + 8).join(''));
  // Letters on each side of position i within the same run of letters (for hyphenation).
  const run = (i: number, d: -1 | 1) => {
    let k = 0;
    for (let j = d < 0 ? i - 1 : i; j >= s && j < e && isWordLetter(cs[j]!); j += d) k++;
    return k;
  };
  for (let i = s + 1; i < e; i++) {
    const p = cs[i - 1]!;
    const c = cs[i]!;
    const n = cs[i + 1] ?? '';
    let lv = 1;
    // Hyphen, slash and URL separators first; after . ? , (they may not start a
    // line: 禁則), before / _ # & = …; then camelCase and letter|digit.
    if (p === '-' || p === '–') lv = 3;
    else if (c === '/' && p !== ':' && p !== '/') lv = 3;
    else if (p === '/' && c !== '/' && cs[i - 2] === '/') lv = 3;
    else if (p === '.' && isDigit(cs[i - 2] ?? '') && isDigit(c)) lv = 1;
    else if ('.?,'.includes(p) && c !== '/') lv = 3;
    else if ('_#&=·@~'.includes(c) && i > s + 1) lv = 3;
    else if (isLower(p) && isUpper(c)) lv = 3;
    else if (isUpper(p) && isUpper(c) && isLower(n))
      lv = 3; // AWQInt → AWQ|Int
    else if ((isLetter(p) && isDigit(c)) || (isDigit(p) && isLetter(c))) lv = 3;
    else if ('-–/:'.includes(c)) lv = 0; // a hyphen or slash never starts a line after a letter break
    // A word broken between letters keeps two before and three after the hyphen.
    // Kinsoku inside a token too: 38.58|% and huggingface|.co never.
    if (NO_START.has(c) || NO_END.has(p)) lv = 0;
    const word = isWordLetter(p) && isWordLetter(c) && !url;
    if (lv === 1 && word && (run(i, -1) < 2 || run(i, 1) < 3)) lv = 0;
    a.inner[i] = lv;
    if (lv === 1 && word) a.hyphen[i] = 1;
  }
}

const cache = new Map<string, Analysis>();

/** Clusters and break levels of a text (memoised: fitting tries many sizes). */
export function analyze(text: string, opts: { simplified?: boolean } = {}): Analysis {
  const key = `${opts.simplified ? 's' : 't'}${text}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const s = text.replace(/[ \t\r\n\f\v\u00a0]+/g, ' ').trim();
  const clusters = graphemes(s);
  const n = clusters.length;
  const a: Analysis = {
    clusters,
    cls: clusters.map(classify),
    level: new Uint8Array(n + 1),
    inner: new Uint8Array(n + 1),
    hyphen: new Uint8Array(n + 1),
    tokens: [],
  };
  const starts: number[] = [];
  let off = 0;
  for (const c of clusters) {
    starts.push(off);
    off += c.length;
  }
  // Tokens. inToken[k]: 1 + the index of the token cluster k is part of, or 0.
  const inToken = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    if (a.cls[i] !== 'word' && !'第$€£¥−-'.includes(clusters[i]!)) continue;
    TOKEN_RE.lastIndex = starts[i]!;
    const m = TOKEN_RE.exec(s);
    if (!m?.[0]) continue;
    let text = m[0];
    if (/^(?:https?:|www\.)/.test(text)) text = text.replace(/[.,;:)\]]+$/u, '');
    // End on a cluster boundary (a match may stop inside one).
    let j = i;
    const endOff = starts[i]! + text.length;
    while (j < n && starts[j]! < endOff) j++;
    if (j - i < 2) continue;
    a.tokens.push([i, j]);
    for (let k = i; k < j; k++) inToken[k] = a.tokens.length;
    tokenInner(clusters, i, j, a);
    i = j - 1;
  }
  // Han runs: phrase levels.
  for (let i = 0; i < n; ) {
    if (a.cls[i] !== 'han' || inToken[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && a.cls[j] === 'han' && !inToken[j]) j++;
    hanLevels(clusters.slice(i, j), i, a.level, opts.simplified ?? false);
    i = j;
  }
  // Everything else, then kinsoku on top.
  for (let i = 1; i < n; i++) {
    const p = a.cls[i - 1]!;
    const c = a.cls[i]!;
    if (inToken[i] && inToken[i] === inToken[i - 1]) a.level[i] = 0;
    else if (c === 'space') a.level[i] = 5;
    else if (p === 'space') a.level[i] = 0;
    else if (inToken[i] !== inToken[i - 1] || !(p === 'han' && c === 'han')) a.level[i] = 4;
    // Kinsoku: closers stick to what precedes them, openers to what follows.
    if (c === 'close' || p === 'open') a.level[i] = 0;
    if (NO_SPLIT_PAIR.has(clusters[i]!) && clusters[i] === clusters[i - 1]) a.level[i] = 0;
    // A space before a closer (「好 」) must not put the closer at a line start.
    if (c === 'space' && a.cls[i + 1] === 'close') a.level[i] = 0;
  }
  // A short quoted term (「規則定義者」, 《人工智能發展報告》) reads as a name: break inside only as a last resort.
  for (let i = 0; i < n; i++) {
    if (a.cls[i] !== 'open') continue;
    let j = i + 1;
    while (j < n && j - i <= 9 && a.cls[j] !== 'close' && a.cls[j] !== 'space' && a.cls[j] !== 'open') j++;
    if (j < n && a.cls[j] === 'close' && j - i <= 9)
      for (let k = i + 2; k < j; k++) a.level[k] = Math.min(a.level[k]!, 1);
  }
  // One character and a closing mark alone at a line start (告》, 者」。) reads as a stray: never.
  for (let i = 1; i < n - 1; i++)
    if (a.cls[i] === 'han' && a.cls[i + 1] === 'close' && a.cls[i - 1] === 'han') a.level[i] = 0;
  if (cache.size > 2000) cache.clear();
  cache.set(key, a);
  return a;
}
