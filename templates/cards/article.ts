// Article card: kicker, headline, dek, section, byline, brand, optional photo.
// Wide formats put the photo right of the text; square and tall put it on top;
// the wechat banner keeps only kicker + headline.
import type { ArticleCardData, CardNode, LayoutKit } from '../../src/cards/layout-api.ts';
import { bannerPage, centreWidth, wingText } from './_banner.ts';
import { bodyHeight, footer, innerWidth, masthead, NORMAL_LINE, page } from './_frame.ts';

export default function article(d: ArticleCardData, k: LayoutKit) {
  const { colors, type } = k.theme;
  const shape = k.format.shape;
  if (shape === 'banner') return articleBanner(d, k);
  const inner = innerWidth(k);
  const hasPhoto = Boolean(d.photo) && shape !== 'banner';
  const sideBySide = hasPhoto && shape === 'wide';
  const textWidth = sideBySide ? Math.round(inner * 0.56) : inner;
  const lines = {
    wide: { head: hasPhoto ? 4 : 3, dek: hasPhoto ? 3 : 2 },
    banner: { head: 3, dek: 0 },
    square: { head: hasPhoto ? 3 : 4, dek: hasPhoto ? 2 : 4 },
    tall: { head: k.format.height > 1600 ? 6 : 4, dek: k.format.height > 1600 ? 6 : 4 },
  }[shape];

  const kicker = d.kicker ?? d.series;
  const banner = shape === 'banner';
  // The photo takes a share of the body (not of the card): on a story the
  // platform's safe zones already take a third of the height.
  const photoH = hasPhoto && !sideBySide ? Math.round(bodyHeight(k) * (shape === 'square' ? 0.44 : 0.42)) : 0;
  // The column's height budget: the page minus masthead, footer, the body's
  // margins and a photo on top. Kicker, headline and dek share it, so a long
  // headline clamps instead of pushing the footer off the card.
  const bodyMargins = k.px(banner ? 14 : sideBySide ? 28 : 36) + k.px(24);
  let room = bodyHeight(k) - bodyMargins - (photoH ? photoH + k.px(36) : 0);
  const kickerSize = k.px(type.kicker!);
  const kickerText = kicker
    ? k.fit(kicker, {
        weight: 700,
        max: kickerSize,
        min: kickerSize,
        width: textWidth - k.px(20),
        maxLines: 1,
      }).lines[0]
    : undefined;
  if (kickerText) room -= kickerSize * NORMAL_LINE + k.px(12);
  const dekMax = k.px(type.dek! * (shape === 'tall' || shape === 'square' ? 1.15 : 1));
  const dekMin = k.px(type.dek! - 3);
  const dekLine = dekMin * 1.55 + k.px(22);
  const head = k.block(d.title, {
    weight: 700,
    max: k.px(
      type.headlineMax! * ({ wide: hasPhoto ? 1 : 1.15, banner: 1, square: 1.2, tall: 1.3 }[shape] ?? 1),
    ),
    min: k.px(type.headlineMin!),
    width: textWidth,
    maxLines: lines.head,
    // Leave the dek at least one line when there is one.
    maxHeight: room - (lines.dek > 0 && d.dek ? dekLine : 0),
    lineHeight: 1.28,
    style: { marginTop: k.px(kickerText ? 12 : 0) },
  });
  room -= head.height;
  const dekRoom = room - k.px(22);
  const dek =
    lines.dek > 0 && d.dek && dekRoom >= dekMin * 1.55
      ? k.text(d.dek, {
          weight: 400,
          max: dekMax,
          min: dekMin,
          width: textWidth,
          maxLines: lines.dek,
          maxHeight: dekRoom,
          color: colors.muted,
          lineHeight: 1.55,
          style: { marginTop: k.px(22) },
        })
      : null;
  const headline = head.node;
  const kickerEl = kickerText
    ? k.div(
        {
          display: 'flex',
          alignItems: 'center',
          flexShrink: 0,
          fontSize: kickerSize,
          fontWeight: 700,
          color: colors.primary,
          whiteSpace: 'pre',
        },
        k.div({
          width: k.px(8),
          height: kickerSize,
          backgroundColor: colors.primary,
          marginRight: k.px(12),
        }),
        kickerText,
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

  const creditH = d.photo?.credit ? Math.ceil(k.px(type.meta! - 4) * 1.3) + k.px(6) : 0;
  const photo =
    hasPhoto && d.photo
      ? k.div(
          {
            display: 'flex',
            flexDirection: 'column',
            width: sideBySide ? inner - textWidth - k.px(36) : inner,
            height: sideBySide ? '100%' : photoH,
            flexShrink: 0,
            marginLeft: sideBySide ? k.px(36) : 0,
            marginBottom: sideBySide ? 0 : k.px(36),
          },
          k.el('img', {
            width: '100%',
            height: (sideBySide ? bodyHeight(k) - k.px(28) - k.px(24) : photoH) - creditH,
            objectFit: 'cover',
          }),
          // The credit under the photo, as the paper prints it (圖：新華社).
          d.photo.credit
            ? k.text(`圖：${d.photo.credit}`, {
                weight: 400,
                max: k.px(type.meta! - 4),
                min: k.px(type.meta! - 6),
                width: sideBySide ? inner - textWidth - k.px(36) : inner,
                maxLines: 1,
                color: colors.muted,
                style: { marginTop: k.px(6), alignSelf: 'flex-end' },
              })
            : null,
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
          // Without a photo, square and tall cards centre the text in the space between masthead and footer.
          justifyContent: (shape === 'tall' || shape === 'square') && !hasPhoto ? 'center' : 'flex-start',
        },
        photo,
        textCol,
      );

  return page(
    k,
    masthead(k, d.section, banner ? d.date : undefined),
    body,
    banner ? null : footer(k, d.byline, d.date),
  );
}

/** WeChat: kicker + headline in the centre square; photo (or section) and dek in the wings. */
function articleBanner(d: ArticleCardData, k: LayoutKit): CardNode {
  const { colors, type } = k.theme;
  const meta = k.px(type.meta! + 2);
  const kicker = d.kicker ?? d.series;
  const kickerSize = k.px(type.kicker!);
  const width = centreWidth(k);
  const kickerText = kicker
    ? k.fit(kicker, { weight: 700, max: kickerSize, min: kickerSize, width, maxLines: 1 }).lines[0]
    : undefined;
  // The centre's height: the card minus its padding, the brand mark and the kicker.
  const room = k.format.height - k.px(40) * 2 - k.px(10) - k.px(type.brand!) * 1.6 - k.px(12);
  const head = k.block(d.title, {
    weight: 700,
    max: k.px(type.headlineMax! * 0.9),
    min: k.px(type.headlineMin! * 0.8),
    width,
    maxLines: 3,
    maxHeight: room - (kickerText ? kickerSize * NORMAL_LINE + k.px(8) : 0),
    lineHeight: 1.25,
  });
  const photo = d.photo
    ? k.div(
        { display: 'flex', width: '100%', height: '100%' },
        k.el('img', { width: '100%', height: '100%', objectFit: 'cover' }),
      )
    : undefined;
  if (photo && d.photo) (photo.props.children as CardNode[])[0]!.props.src = d.photo.src;
  return bannerPage(k, {
    photo,
    left: [
      wingText(k, d.section, { size: k.px(type.kicker! + 6), weight: 700, color: colors.primary }),
      wingText(k, d.date, { size: meta }),
    ],
    centre: [
      kickerText
        ? k.div(
            {
              display: 'flex',
              fontSize: kickerSize,
              fontWeight: 700,
              color: colors.primary,
              whiteSpace: 'pre',
            },
            kickerText,
          )
        : null,
      k.div({ display: 'flex', marginTop: kickerText ? k.px(8) : 0 }, head.node),
    ],
    right: [
      k.div(
        { display: 'flex', flexDirection: 'column' },
        wingText(k, photo ? d.section : undefined, { size: meta, weight: 700, color: colors.primary }),
        wingText(k, d.dek, { size: meta, maxLines: photo ? 5 : 6, top: photo ? k.px(8) : 0 }),
      ),
      k.div(
        { display: 'flex', flexDirection: 'column' },
        wingText(k, d.photo?.credit ? `圖：${d.photo.credit}` : undefined, { size: k.px(type.meta! - 2) }),
        wingText(k, photo ? d.date : undefined, { size: meta }),
      ),
    ],
  });
}
