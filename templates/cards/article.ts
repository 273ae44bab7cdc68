// Article card: kicker, headline, dek, section, byline, brand, optional photo.
// Wide formats put the photo right of the text; square and tall put it on top;
// the wechat banner keeps only kicker + headline.
import type { ArticleCardData, LayoutKit } from '../../src/cards/layout-api.ts';
import { footer, innerWidth, masthead, page } from './_frame.ts';

export default function article(d: ArticleCardData, k: LayoutKit) {
  const { colors, type } = k.theme;
  const shape = k.format.shape;
  const inner = innerWidth(k);
  const hasPhoto = Boolean(d.photo) && shape !== 'banner';
  const sideBySide = hasPhoto && shape === 'wide';
  const textWidth = sideBySide ? Math.round(inner * 0.56) : inner;
  const lines = {
    wide: { head: hasPhoto ? 4 : 3, dek: hasPhoto ? 3 : 2 },
    banner: { head: 2, dek: 0 },
    square: { head: hasPhoto ? 3 : 4, dek: hasPhoto ? 2 : 4 },
    tall: { head: 4, dek: k.format.height > 1600 ? 6 : 4 },
  }[shape];

  const kicker = d.kicker ?? d.series;
  const headline = k.text(d.title, {
    weight: 700,
    max: k.px(
      type.headlineMax! * ({ wide: hasPhoto ? 1 : 1.15, banner: 1, square: 1.2, tall: 1.3 }[shape] ?? 1),
    ),
    min: k.px(type.headlineMin!),
    width: textWidth,
    maxLines: lines.head,
    lineHeight: 1.28,
    style: { marginTop: k.px(kicker ? 12 : 0) },
  });
  const dek =
    lines.dek > 0
      ? k.text(d.dek, {
          weight: 400,
          max: k.px(type.dek! * (shape === 'tall' || shape === 'square' ? 1.15 : 1)),
          min: k.px(type.dek! - 3),
          width: textWidth,
          maxLines: lines.dek,
          color: colors.muted,
          lineHeight: 1.55,
          style: { marginTop: k.px(22) },
        })
      : null;
  const kickerEl = kicker
    ? k.div(
        {
          display: 'flex',
          alignItems: 'center',
          fontSize: k.px(type.kicker!),
          fontWeight: 700,
          color: colors.primary,
        },
        k.div({
          width: k.px(8),
          height: k.px(type.kicker!),
          backgroundColor: colors.primary,
          marginRight: k.px(12),
        }),
        kicker,
      )
    : null;

  const textCol = k.div(
    {
      display: 'flex',
      flexDirection: 'column',
      width: textWidth,
      justifyContent: shape === 'tall' ? 'flex-start' : 'center',
    },
    kickerEl,
    headline,
    dek,
  );

  const photo =
    hasPhoto && d.photo
      ? k.div(
          {
            display: 'flex',
            flexDirection: 'column',
            width: sideBySide ? inner - textWidth - k.px(36) : inner,
            height: sideBySide ? '100%' : Math.round(k.format.height * (shape === 'square' ? 0.36 : 0.34)),
            marginLeft: sideBySide ? k.px(36) : 0,
            marginBottom: sideBySide ? 0 : k.px(36),
          },
          k.el('img', { width: '100%', height: '100%', objectFit: 'cover' }),
        )
      : null;
  if (photo && d.photo) {
    const img = (photo.props.children as { props: Record<string, unknown> }[])[0]!;
    img.props.src = d.photo.src;
  }

  const body = sideBySide
    ? k.div(
        { display: 'flex', flexDirection: 'row', flexGrow: 1, marginTop: k.px(28), marginBottom: k.px(24) },
        textCol,
        photo,
      )
    : k.div(
        {
          display: 'flex',
          flexDirection: 'column',
          flexGrow: 1,
          marginTop: k.px(shape === 'banner' ? 14 : 36),
          marginBottom: k.px(24),
          justifyContent: shape === 'tall' && !hasPhoto ? 'center' : 'flex-start',
        },
        photo,
        textCol,
      );

  const byline = [d.byline, d.date].filter(Boolean).join('　');
  return page(
    k,
    masthead(k, d.section, shape === 'banner' ? d.date : undefined),
    body,
    shape === 'banner' ? null : footer(k, byline),
  );
}
