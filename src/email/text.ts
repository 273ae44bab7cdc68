// The plain-text part's typography: lines wrapped at 72 columns counted the
// way a terminal or a monospace mail reader counts them (East Asian Wide and
// Fullwidth characters take two columns), URLs and merge tokens never broken,
// Chinese line-breaking rules kept (no 。」 at a line start, no 「 at an end).

/** Columns a code point takes: 2 for East Asian Wide/Fullwidth, 0 for combining marks, else 1. */
export function cellWidth(cp: number): number {
  if (cp < 0x1100) return cp >= 0x300 && cp <= 0x36f ? 0 : 1;
  if (
    (cp >= 0x1100 && cp <= 0x115f) || // Hangul Jamo
    (cp >= 0x2e80 && cp <= 0x303e) || // CJK radicals, symbols and punctuation
    (cp >= 0x3041 && cp <= 0x33ff) || // kana, CJK compatibility
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) || // fullwidth forms (，：｜)
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) || // emoji
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd) // CJK extensions B–G (𨋢)
  )
    return 2;
  if (cp === 0x200b || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  return 1;
}

export const textWidth = (s: string) => {
  let w = 0;
  for (const ch of s) w += cellWidth(ch.codePointAt(0)!);
  return w;
};

// Never at the start of a line / never at the end of one (Chinese and Latin punctuation).
const NO_START = new Set([...'。，、；：？！」』）》〉】”’%)].,;:?!…—・']);
const NO_END = new Set([...'「『（《〈【“‘([']);
const UNBREAKABLE = /(https?:\/\/\S+|mailto:\S+|%%[a-z_]+%%)/;

/** Break a line into the smallest pieces a line may end after. */
function pieces(line: string): string[] {
  const out: string[] = [];
  for (const [i, part] of line.split(UNBREAKABLE).entries()) {
    if (i % 2 === 1) {
      out.push(part);
      continue;
    }
    // Latin words (with their trailing space) stay whole; every wide character is its own piece.
    for (const m of part.matchAll(
      /[^\s\u2e80-\u9fff\uac00-\ud7a3\uff00-\uffe6\u{20000}-\u{3fffd}]+\s*|\s+|./gsu,
    ))
      out.push(m[0]);
  }
  // Glue punctuation that may not start a line onto the piece before, and openers onto the next.
  const glued: string[] = [];
  for (const p of out) {
    const prev = glued[glued.length - 1];
    if (prev !== undefined && (NO_START.has([...p][0]!) || NO_END.has([...prev].at(-1)!)))
      glued[glued.length - 1] = prev + p;
    else glued.push(p);
  }
  return glued;
}

/**
 * Wrap one line at `width` columns. Continuation lines get the indent of the
 * first line's marker ("・", "1. ", leading spaces) so lists stay lists.
 */
export function wrapLine(line: string, width = 72): string[] {
  if (textWidth(line) <= width) return [line];
  // A quoted line ("> …") continues as a quoted line; a list item under its text.
  const indent = line.startsWith('> ')
    ? '> '
    : ' '.repeat(textWidth(/^(\s*(?:\d+\.\s|[・■•-]\s?)?)/u.exec(line)?.[1] ?? ''));
  const lines: string[][] = [];
  let cur: string[] = [];
  const w = (ps: string[]) => textWidth(ps.join('').trimEnd());
  for (const p of pieces(line)) {
    if (cur.join('').trim() && w([...cur, p]) > width) {
      lines.push(cur);
      cur = [indent + p.trimStart()];
    } else cur.push(p);
  }
  if (cur.join('').trim()) lines.push(cur);
  // No lone Chinese character (with its punctuation) on the last line: take one more along.
  const last = lines.at(-1)!;
  const prev = lines.at(-2);
  if (
    prev &&
    prev.length > 2 &&
    last.length === 1 &&
    /^\s*\p{Script=Han}\p{P}*$/u.test(last[0]!.slice(indent.length))
  ) {
    const moved = prev.pop()!;
    if (!/\s$/.test(moved)) last[0] = indent + moved + last[0]!.slice(indent.length);
    else prev.push(moved);
  }
  return lines.map((l) => l.join('').trimEnd());
}

export const wrapText = (s: string, width = 72) =>
  s
    .split('\n')
    .flatMap((l) => wrapLine(l, width))
    .join('\n');

/** A ten-cell bar for the text part (███░░░░░░░); any non-zero share gets at least one cell. */
export function textBar(pct: number): string {
  const full = pct <= 0 ? 0 : Math.min(10, Math.max(1, Math.round(pct / 10)));
  return '█'.repeat(full) + '░'.repeat(10 - full);
}

const WJ = '\u2060';
const CJK_CHAR = /[\p{Script=Han}\u3000-\u303f\uff00-\uffef]/u;

/**
 * A headline never ends on a lone character: the last phrase (after the last
 * space or ，、：) is glued with WORD JOINERs when it is short (≤ 8
 * characters, a third of a phone line at most), else the last two are. Latin headlines get a
 * no-break space before the last word.
 */
export function keepLastPhrase(title: string): string {
  const t = title.trimEnd();
  const cps = [...t];
  if (cps.length < 4) return t;
  if (!CJK_CHAR.test(t)) return t.replace(/ (\S+)$/u, '\u00a0$1');
  // Only a Han character can be left alone by a line break between characters.
  if (!/\p{Script=Han}/u.test([...t.replace(/[」』）》”’。！？]+$/u, '')].at(-1) ?? '')) return t;
  const cut = Math.max(
    t.lastIndexOf(' '),
    t.lastIndexOf('　'),
    t.lastIndexOf('，'),
    t.lastIndexOf('、'),
    t.lastIndexOf('：'),
  );
  const tail = cut >= 0 ? [...t.slice(cut + 1)] : [];
  // Two characters at least, not counting closing punctuation (者」 is one character).
  let n = 2;
  while (n < cps.length && NO_START.has(cps[cps.length - 1]!) && n < 3) n++;
  if (tail.length >= n && tail.length <= 8) n = tail.length;
  const head = cps.slice(0, cps.length - n).join('');
  return head + cps.slice(cps.length - n).join(WJ);
}

/** A short run that must not break inside (約3分鐘, 07:30): characters joined by WORD JOINERs. */
export const unbreakable = (s: string) => [...s].join(WJ);
