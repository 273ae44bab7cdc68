// Quote card: the expert's words large, a red opening bracket, name and role.
import type { LayoutKit, QuoteCardData } from '../../src/cards/layout-api.ts';
import { wrapQuote } from '../../src/util/quotes.ts';
import { bodyHeight, footer, innerWidth, masthead, NORMAL_LINE, page } from './_frame.ts';

export default function quote(d: QuoteCardData, k: LayoutKit) {
  const { colors, type } = k.theme;
  const shape = k.format.shape;
  const inner = innerWidth(k);
  const maxLines = { wide: 4, banner: 2, square: 7, tall: k.format.height > 1600 ? 11 : 8 }[shape];
  const banner = shape === 'banner';
  const labelSize = k.px(type.label!);
  const roleSize = k.px(type.meta! + 2);
  const whoH = labelSize * NORMAL_LINE + k.px(banner ? 10 : 28);
  const wordsWidth = inner - (banner ? 0 : k.px(20) + k.px(6));
  const words = k.text(wrapQuote(d.text, d.marks), {
    weight: 700,
    max: k.px(shape === 'tall' ? type.quoteMax! * 1.1 : type.quoteMax!),
    min: k.px(type.quoteMin!),
    width: wordsWidth,
    maxLines,
    maxHeight: bodyHeight(k) - k.px(banner ? 12 : 32) - k.px(banner ? 0 : 28) - whoH,
    lineHeight: 1.45,
  });
  // The name whole where it fits in 60% of the line (else clamped); the role clamps to the room left.
  const by =
    k.fit(d.by, { weight: 700, max: labelSize, min: labelSize, width: wordsWidth * 0.6, maxLines: 1 })
      .lines[0] ?? '';
  const byW = k.measure(by, labelSize, 700);
  const role = k.fit(d.role, {
    weight: 400,
    max: roleSize,
    min: roleSize,
    width: Math.max(roleSize, wordsWidth - k.px(40) - k.px(14) - byW - k.px(14)),
    maxLines: 1,
  }).lines[0];
  const who = k.div(
    { display: 'flex', alignItems: 'baseline', flexShrink: 0, marginTop: k.px(banner ? 10 : 28) },
    k.div({
      width: k.px(40),
      height: 3,
      backgroundColor: colors.primary,
      marginRight: k.px(14),
      alignSelf: 'center',
    }),
    k.div({ fontSize: labelSize, fontWeight: 700, color: colors.ink, whiteSpace: 'pre' }, by),
    k.div({ fontSize: roleSize, color: colors.muted, marginLeft: k.px(14), whiteSpace: 'pre' }, role),
  );
  const column = k.div(
    {
      display: 'flex',
      flexDirection: 'column',
      flexGrow: 1,
      justifyContent: 'center',
      marginTop: k.px(shape === 'banner' ? 12 : 32),
      marginBottom: k.px(shape === 'banner' ? 0 : 28),
    },
    words,
    who,
  );
  // The red bar left of the words (a box, not a CSS border: cheaper to draw).
  const body =
    shape === 'banner'
      ? column
      : k.div(
          { display: 'flex', flexDirection: 'row', flexGrow: 1 },
          k.div({
            width: k.px(6),
            flexShrink: 0,
            backgroundColor: colors.primary,
            marginRight: k.px(20),
            marginTop: k.px(32),
            marginBottom: k.px(28),
          }),
          column,
        );
  return page(
    k,
    masthead(k, '專家之言', banner ? d.date : undefined),
    body,
    banner ? null : footer(k, d.title, d.date),
  );
}
