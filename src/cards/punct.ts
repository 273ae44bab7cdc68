// Punctuation compression after the W3C Chinese layout requirements (CLREQ
// §3.1.6, adjacent punctuation): in a Hong Kong font the brackets 「」『』（）《》
// draw on one half of their em box and leave the other half blank, while ，。、
// ；：！？ sit centred. So:
// - a closing bracket followed by more punctuation drops its blank right half
//   (」。」 and ）， no longer leave a 1.5 em hole);
// - an opening bracket after punctuation, or at the start of a line, drops its
//   blank left half (a line starting with 「 does not look indented);
// - a closing bracket ending a line drops its blank right half (nothing to see).
// Centred marks are never squeezed: their ink would collide.

export const OPEN_BRACKETS = new Set([...'「『（【〔《〈〖［｛']);
export const CLOSE_BRACKETS = new Set([...'」』）】〕》〉〗］｝']);
const PUNCT = new Set([...OPEN_BRACKETS, ...CLOSE_BRACKETS, ...'，。、；：！？…—']);

/** '' full width; 'r' blank right half dropped (closing); 'l' blank left half dropped (opening). */
export type Squash = '' | 'l' | 'r';

/** Squashes between neighbours only (no line position): the same for the whole text and each line. */
export function squashInner(cs: readonly string[]): Squash[] {
  return cs.map((c, i) => {
    if (CLOSE_BRACKETS.has(c) && PUNCT.has(cs[i + 1] ?? '')) return 'r';
    if (OPEN_BRACKETS.has(c) && PUNCT.has(cs[i - 1] ?? '')) return 'l';
    return '';
  });
}

/** Squashes of one line as drawn: neighbours, plus a line-initial opener and a line-final closer. */
export function squashLine(cs: readonly string[]): Squash[] {
  const out = squashInner(cs);
  if (cs.length && OPEN_BRACKETS.has(cs[0]!)) out[0] = 'l';
  const last = cs.length - 1;
  if (last >= 0 && CLOSE_BRACKETS.has(cs[last]!)) out[last] = 'r';
  return out;
}
