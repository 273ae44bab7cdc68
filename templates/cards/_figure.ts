// A big figure with its unit (or the paper's own `display` wording), shared by
// the stat and statset layouts. Not a layout (no registry entry).
import type { CardNode, LayoutKit } from '../../src/cards/layout-api.ts';
import type { Stat } from '../../src/content/model.ts';

/** Split display text like 超5300家 / 第15位 / 400餘家 into small prefix, big figure, small suffix. */
function parts(k: LayoutKit, s: Stat): [string, string, string] {
  if (s.display) {
    // The big part is the figure that is the stat's value (全球前10中佔據9席 → 9),
    // else the first figure in the text (3萬餘家 → 3).
    const escaped = String(s.value).replace('.', '\\.');
    const own = new RegExp(`^(.*?)(?<![\\d.,])(${escaped})(?![\\d.,])(.*)$`, 'u').exec(s.display);
    const m = own ?? /^(\D*?)([\d.,]+)(.*)$/u.exec(s.display);
    if (m) return [m[1]!, m[2]!, m[3]!];
    return ['', s.display, ''];
  }
  const { num, unit } = k.figure(s.value, s.unit);
  return ['', num, unit];
}

const small = (n: number) => Math.round(n * 0.36);

/**
 * The size a figure is drawn at: `size`, taken down by each squeeze step
 * (text found outside the safe area), then until prefix + number + unit fits
 * the width. A card with several figures draws them all at the smallest of
 * their sizes (`figure(…, { exact })`), so no figure looks bigger by accident.
 */
export function figureSize(k: LayoutKit, s: Stat, size: number, width: number): number {
  const [pre, num, post] = parts(k, s);
  let big = Math.round(size * 0.85 ** k.squeeze);
  const total = (b: number) =>
    k.measure(pre, small(b), 700) + k.measure(num, b, 700) + k.measure(post, small(b), 700) + b * 0.1;
  while (big > 12 && total(big) > width) big -= big > 28 ? 4 : 2;
  return big;
}

export function figure(
  k: LayoutKit,
  s: Stat,
  size: number,
  width: number,
  color: string,
  o: { exact?: boolean } = {},
): CardNode {
  const [pre, num, post] = parts(k, s);
  const big = o.exact ? size : figureSize(k, s, size, width);
  return k.div(
    { display: 'flex', alignItems: 'baseline', color, fontWeight: 700, lineHeight: 1 },
    pre ? k.div({ fontSize: small(big), marginRight: Math.round(big * 0.04) }, pre) : null,
    k.div({ fontSize: big, letterSpacing: -big * 0.02 }, num),
    post ? k.div({ fontSize: small(big), marginLeft: Math.round(big * 0.05) }, post) : null,
  );
}

/**
 * The change line: ▲ +2.66億人 較2024年12月. Where it does not fit `width` on one
 * line, the comparison goes under the figure; each part clamps to the width.
 */
export function change(k: LayoutKit, s: Stat, size: number, width: number): CardNode | null {
  if (!s.change) return null;
  const c = k.change(s.change);
  const { colors } = k.theme;
  // Up and down take the theme's colours; no change is neutral (muted, no arrow).
  const color = c.dir === 'up' ? colors.up : c.dir === 'down' ? colors.down : colors.muted;
  const head = c.arrow ? `${c.arrow} ${c.text}` : c.text;
  let headSize = size;
  while (headSize > 10 && k.measure(head, headSize, 700) > width * 0.97) headSize -= 1;
  const gap = Math.round(size * 0.3);
  const oneLine = k.measure(head, headSize, 700) + gap + k.measure(c.versus, size) <= width * 0.97;
  const versus = oneLine
    ? c.versus
    : (k.fit(c.versus, { weight: 400, max: size, min: size, width, maxLines: 1 }).lines[0] ?? '');
  return k.div(
    {
      display: 'flex',
      flexDirection: oneLine ? 'row' : 'column',
      alignItems: oneLine ? 'center' : 'flex-start',
      fontSize: size,
      color: colors.muted,
      whiteSpace: 'pre',
      flexShrink: 0,
    },
    k.div({ color, fontWeight: 700, fontSize: headSize, marginRight: oneLine ? gap : 0 }, head),
    versus ? k.div({}, versus) : null,
  );
}
