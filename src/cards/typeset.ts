import { graphemes, isEmojiCluster, metricsFor } from './fonts.ts';

// Line breaking for CJK cards, done here rather than left to satori so the rules
// are ours, testable and the same at every width:
// - no line starts with closing brackets or punctuation (」』）】，。、；：！？…),
//   no line ends with an opening bracket (「『（【…) — 禁則 (kinsoku);
// - Latin words, model names and figures (DeepSeek-R1, H100, 38.58%, 2.9萬億元,
//   第15位) are one unit and never split.
// Each line is then drawn as its own nowrap box, so satori cannot re-break it.
// Widths come from the font's own advance table; kerning is ignored, hence SLACK.

export const NO_START = new Set(
  [...'」』）】〕》〉〗｝］，。、；：！？‧・…‥％％)]},.;:!?%'].concat(['’', '”']),
);
export const NO_END = new Set([...'「『（【〔《〈〖｛［([{'].concat(['‘', '“']));
const SLACK = 0.97;

// A figure with its CJK magnitude/unit, or a Latin word with inner - . / ' & +.
const UNIT_CHARS = '萬億兆千百元圓人件家位個倍年月日時分秒週周歲次台臺輛噸米吋公里斤克項席款名';
const WORD_RE = new RegExp(
  String.raw`^(?:第)?(?:[$€£¥]|HK\$|US\$)?[\p{Script=Latin}\p{Nd}]+(?:[-–.,'’/&+_:][\p{Script=Latin}\p{Nd}]+)*[%‰]?(?:[${UNIT_CHARS}]+)?`,
  'u',
);

export interface Token {
  text: string;
  /** Break allowed before this token (false: glued to the previous one). */
  breakBefore: boolean;
  space: boolean;
}

/** Split into unbreakable pieces, marking where a line may break. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let pendingSpace = false;
  const s = text.replace(/\s+/g, ' ').trim();
  while (i < s.length) {
    const rest = s.slice(i);
    if (rest[0] === ' ') {
      pendingSpace = true;
      i++;
      continue;
    }
    const m = WORD_RE.exec(rest);
    // A figure directly after 第 is matched with it; a lone 第 otherwise is a CJK char.
    const piece = m && m[0] !== '第' ? m[0] : graphemes(rest.slice(0, 8))[0]!;
    out.push({ text: piece, breakBefore: true, space: pendingSpace });
    pendingSpace = false;
    i += piece.length;
  }
  // Kinsoku: glue closers to what precedes them and openers to what follows.
  for (let k = 0; k < out.length; k++) {
    const t = out[k]!;
    if (k === 0) t.breakBefore = false;
    const first = [...t.text][0]!;
    if (NO_START.has(first) && !t.space) t.breakBefore = false;
    const prev = out[k - 1];
    if (prev && NO_END.has([...prev.text].at(-1)!) && !t.space) t.breakBefore = false;
    // Two Latin words are separated only where the text has a space.
    if (
      prev &&
      !t.space &&
      /[\p{Script=Latin}\p{Nd}%]$/u.test(prev.text) &&
      /^[\p{Script=Latin}\p{Nd}]/u.test(t.text)
    )
      t.breakBefore = false;
  }
  return out;
}

export interface Measure {
  size: number;
  weight: number;
  /** Extra space per character, in em. */
  letterSpacing?: number;
}

export function measure(text: string, m: Measure): number {
  const metrics = metricsFor(m.weight);
  let units = 0;
  let n = 0;
  for (const g of graphemes(text)) {
    n++;
    if (isEmojiCluster(g)) {
      units += metrics.unitsPerEm;
      continue;
    }
    for (const ch of g) units += metrics.advance(ch.codePointAt(0)!) ?? metrics.unitsPerEm;
  }
  return (units / metrics.unitsPerEm) * m.size + n * (m.letterSpacing ?? 0) * m.size;
}

interface Unit {
  text: string;
  space: boolean;
}

function units(tokens: Token[]): Unit[] {
  const out: Unit[] = [];
  for (const t of tokens) {
    const last = out.at(-1);
    if (last && !t.breakBefore) last.text += (t.space ? ' ' : '') + t.text;
    else out.push({ text: t.text, space: t.space });
  }
  return out;
}

/** Greedy line filling over unbreakable units. */
export function breakLines(text: string, width: number, m: Measure): string[] {
  const limit = width * SLACK;
  const lines: string[] = [];
  let cur = '';
  // Widths add up (no kerning in our measure), so a line's width is kept
  // running instead of re-measuring the whole line for every unit.
  const cache = new Map<string, number>();
  const w = (t: string) => {
    let v = cache.get(t);
    if (v === undefined) {
      v = measure(t, m);
      cache.set(t, v);
    }
    return v;
  };
  const spaceW = w(' ');
  let curW = 0;
  // Units on the current line, to move a trailing phrase down (see below).
  let curUnits: Unit[] = [];
  const join = (us: Unit[]) => us.map((u, i) => (i && u.space ? ` ${u.text}` : u.text)).join('');
  for (const u of units(tokenize(text))) {
    const candidate = cur ? cur + (u.space ? ' ' : '') + u.text : u.text;
    const candidateW = cur ? curW + (u.space ? spaceW : 0) + w(u.text) : w(u.text);
    if (!cur || candidateW <= limit) {
      cur = candidate;
      curW = candidateW;
      curUnits.push(u);
      // A single unit wider than the line (a very long URL): split by character as a last resort.
      if (curW > limit && [...cur].length > 1) {
        const chars = graphemes(cur);
        let piece = '';
        for (const c of chars) {
          if (piece && measure(piece + c, m) > limit) {
            lines.push(piece);
            piece = c;
          } else piece += c;
        }
        cur = piece;
        curW = w(piece);
        curUnits = [{ text: piece, space: false }];
      }
      continue;
    }
    // Headlines use a space between phrases (中國AI突飛猛進 專利量全球居首): when
    // the line would break inside the last phrase, break at the space instead,
    // as long as the line stays at least 45% full.
    const sp = curUnits.findLastIndex((x, i) => i > 0 && x.space);
    const head = sp > 0 ? join(curUnits.slice(0, sp)) : '';
    if (sp > 0 && measure(head, m) >= limit * 0.45) {
      lines.push(head);
      curUnits = [...curUnits.slice(sp), u];
      curUnits[0] = { ...curUnits[0]!, space: false };
      cur = join(curUnits);
      curW = measure(cur, m);
      if (curW <= limit) continue;
      // The moved phrase plus this unit no longer fit: fall back to the plain break.
      lines.pop();
      curUnits = [...curUnits];
      cur = `${head} ${join(curUnits.slice(0, -1))}`;
      curUnits = [{ text: cur, space: false }];
    }
    lines.push(cur);
    cur = u.text;
    curW = w(u.text);
    curUnits = [{ ...u, space: false }];
  }
  if (cur) lines.push(cur);
  return lines;
}

export interface FitOptions {
  weight: number;
  /** Largest and smallest font size (px); tried largest first in `step` px steps. */
  max: number;
  min: number;
  step?: number;
  width: number;
  maxLines: number;
  letterSpacing?: number;
}

export interface Fitted {
  lines: string[];
  size: number;
  truncated: boolean;
}

/** Size down within bounds until the text fits `maxLines`; then clamp with an ellipsis. */
export function fitText(text: string, o: FitOptions): Fitted {
  const step = o.step ?? 2;
  let fallback: Fitted | undefined;
  for (let size = o.max; size >= o.min; size -= step) {
    const lines = breakLines(text, o.width, { size, weight: o.weight, letterSpacing: o.letterSpacing });
    if (lines.length > o.maxLines) continue;
    // An orphan (a last line of one or two characters) is worth a size step or two.
    const orphan = lines.length > 1 && graphemes(lines.at(-1)!).length <= 2;
    if (!orphan) return { lines, size, truncated: false };
    fallback ??= { lines, size, truncated: false };
    if (fallback.size - size >= step * 3) break;
  }
  if (fallback) return fallback;
  const m = { size: o.min, weight: o.weight, letterSpacing: o.letterSpacing };
  const lines = breakLines(text, o.width, m).slice(0, o.maxLines);
  let last = lines.at(-1) ?? '';
  const limit = o.width * SLACK;
  const cut = (s: string) => graphemes(s).slice(0, -1).join('');
  // Never leave an opener or a comma hanging before the ellipsis.
  const tidy = (s: string) => s.replace(/[\s「『（【〔《〈([{‘“，、；：,;:]+$/u, '');
  while (last && measure(`${tidy(last)}…`, m) > limit) last = cut(last);
  lines[lines.length - 1] = `${tidy(last)}…`;
  return { lines, size: o.min, truncated: true };
}
