// Quote card: the expert's words large, a red opening bracket, name and role.
import type { LayoutKit, QuoteCardData } from '../../src/cards/layout-api.ts';
import { footer, innerWidth, masthead, page } from './_frame.ts';

export default function quote(d: QuoteCardData, k: LayoutKit) {
  const { colors, type } = k.theme;
  const shape = k.format.shape;
  const inner = innerWidth(k);
  const maxLines = { wide: 4, banner: 2, square: 7, tall: k.format.height > 1600 ? 11 : 8 }[shape];
  const words = k.text(`「${d.text.replace(/^[「"“]|[」"”]$/g, '')}」`, {
    weight: 700,
    max: k.px(shape === 'tall' ? type.quoteMax! * 1.1 : type.quoteMax!),
    min: k.px(type.quoteMin!),
    width: inner - k.px(shape === 'banner' ? 0 : 20),
    maxLines,
    lineHeight: 1.45,
  });
  const who = k.div(
    { display: 'flex', alignItems: 'baseline', marginTop: k.px(shape === 'banner' ? 10 : 28) },
    k.div({
      width: k.px(40),
      height: 3,
      backgroundColor: colors.primary,
      marginRight: k.px(14),
      alignSelf: 'center',
    }),
    k.div({ fontSize: k.px(type.label!), fontWeight: 700, color: colors.ink }, d.by),
    k.div({ fontSize: k.px(type.meta! + 2), color: colors.muted, marginLeft: k.px(14) }, d.role),
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
  const source = k.fit(d.title, {
    weight: 400,
    max: k.px(type.meta!),
    min: k.px(type.meta!),
    width: inner * 0.7,
    maxLines: 1,
  });
  return page(
    k,
    masthead(k, '專家之言', shape === 'banner' ? d.date : undefined),
    body,
    shape === 'banner' ? null : footer(k, `${source.lines[0]}　${d.date}`),
  );
}
