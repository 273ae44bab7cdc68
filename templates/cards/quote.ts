// Quote card: the expert's words large, a red opening bracket, name and role.
import type { CardNode, LayoutKit, QuoteCardData } from '../../src/cards/layout-api.ts';
import { bannerPage, centreWidth, wingText, wingWidth } from './_banner.ts';
import { bodyHeight, footer, innerWidth, masthead, NORMAL_LINE, page } from './_frame.ts';

export default function quote(d: QuoteCardData, k: LayoutKit) {
  const { colors, type } = k.theme;
  const shape = k.format.shape;
  if (shape === 'banner') return quoteBanner(d, k);
  const inner = innerWidth(k);
  const maxLines = { wide: 4, square: 7, tall: k.format.height > 1600 ? 11 : 8 }[shape];
  const whoH = whoHeight(k, d) + k.px(28);
  const max = k.px(shape === 'tall' ? type.quoteMax! * 1.1 : type.quoteMax!);
  // The opening mark hangs in the gutter left of the words (hanging
  // punctuation), so every line's first character lines up; the gutter keeps
  // room for it beside the red bar.
  const hang = Math.round(max * 0.55);
  const wordsWidth = inner - k.px(6) - k.px(20) - hang;
  const words = hangingQuote(d, k, {
    max,
    min: k.px(type.quoteMin!),
    width: wordsWidth,
    maxLines,
    maxHeight: bodyHeight(k) - k.px(32) - k.px(28) - whoH,
  });
  const column = k.div(
    {
      display: 'flex',
      flexDirection: 'column',
      flexGrow: 1,
      justifyContent: 'center',
      marginTop: k.px(32),
      marginBottom: k.px(28),
    },
    words,
    who(k, d, wordsWidth, k.px(28)),
  );
  // The red bar left of the words (a box, not a CSS border: cheaper to draw).
  const body = k.div(
    { display: 'flex', flexDirection: 'row', flexGrow: 1 },
    k.div({
      width: k.px(6),
      flexShrink: 0,
      backgroundColor: colors.primary,
      marginRight: k.px(20) + hang,
      marginTop: k.px(32),
      marginBottom: k.px(28),
    }),
    column,
  );
  return page(k, masthead(k, '專家之言'), body, footer(k, d.title, d.date));
}

/**
 * The words in the edition's marks with the opening mark hung outside the
 * column: the text after it is broken at the full width, and the mark sits in
 * a zero-width box pulled one em to the left, on the first line's baseline.
 */
function hangingQuote(
  d: QuoteCardData,
  k: LayoutKit,
  o: { max: number; min: number; width: number; maxLines: number; maxHeight: number },
): CardNode {
  const wrapped = k.quote(d.text, d.marks);
  const opener = [...wrapped][0]!;
  const block = k.block(wrapped.slice(opener.length), { weight: 700, lineHeight: 1.45, ...o });
  return k.div(
    { display: 'flex', flexDirection: 'row', flexShrink: 0 },
    k.div(
      { display: 'flex', width: 0, flexShrink: 0 },
      k.div(
        {
          display: 'flex',
          marginLeft: -block.size,
          width: block.size,
          fontSize: block.size,
          fontWeight: 700,
          lineHeight: 1.45,
          color: k.theme.colors.ink,
        },
        opener,
      ),
    ),
    block.node,
  );
}

/** The portrait's diameter: a little over two name lines, so it reads as a face, not an icon. */
const portraitSize = (k: LayoutKit) =>
  Math.round(k.px(k.theme.type.label!) * (k.format.shape === 'banner' ? 1.9 : 2.3));
const creditSize = (k: LayoutKit) => k.px(k.theme.type.meta! - 4);

/** Height of the speaker line: the name line, or the portrait beside name and credit. */
function whoHeight(k: LayoutKit, d: QuoteCardData): number {
  const line = k.px(k.theme.type.label!) * NORMAL_LINE;
  if (!d.portrait) return line;
  return Math.max(portraitSize(k), line + (d.portrait.credit ? creditSize(k) * 1.3 : 0));
}

/** The round portrait (already cut to a circle by src/cards/photos/crop.ts). */
function portraitImg(k: LayoutKit, p: NonNullable<QuoteCardData['portrait']>, size: number): CardNode {
  const img = k.el('img', { width: size, height: size, flexShrink: 0 });
  img.props.src = p.src;
  return img;
}

/**
 * Name and role on one line: the name whole where it fits in 60% of the line
 * (else clamped); the role sizes down a little, then clamps to the room left.
 * With a portrait, the round picture leads the line (instead of the red dash)
 * and its credit sits small under name and role.
 */
function who(
  k: LayoutKit,
  d: QuoteCardData,
  width: number,
  marginTop: number,
  /** null: none here (the banner may put it in the wing). */
  portrait: QuoteCardData['portrait'] | null = d.portrait,
): CardNode {
  const { colors, type } = k.theme;
  const labelSize = k.px(type.label!);
  const size = portraitSize(k);
  const gap = k.px(18);
  const dash = portrait ? size + gap : k.px(40) + k.px(14);
  const by =
    k.fit(d.by, { weight: 700, max: labelSize, min: labelSize, width: width * 0.6, maxLines: 1 }).lines[0] ??
    '';
  const room = Math.max(labelSize, width - dash - k.measure(by, labelSize, 700) - k.px(14));
  let roleSize = k.px(type.meta! + 2);
  const floor = k.px(type.meta! - 2);
  while (roleSize > floor && k.measure(d.role, roleSize) > room * 0.97) roleSize -= 1;
  // A little slack: a long Latin name is drawn a few px wider than measured.
  const role = k.fit(d.role, { weight: 400, max: roleSize, min: roleSize, width: room * 0.96, maxLines: 1 })
    .lines[0];
  const line = k.div(
    { display: 'flex', alignItems: 'baseline', flexShrink: 0 },
    k.div({ fontSize: labelSize, fontWeight: 700, color: colors.ink, whiteSpace: 'pre' }, by),
    k.div({ fontSize: roleSize, color: colors.muted, marginLeft: k.px(14), whiteSpace: 'pre' }, role),
  );
  if (portrait) {
    const credit = portrait.credit
      ? k.text(`圖：${portrait.credit}`, {
          weight: 400,
          max: creditSize(k),
          min: creditSize(k),
          width: (width - dash) * 0.96,
          maxLines: 1,
          color: colors.muted,
          lineHeight: 1.3,
        })
      : null;
    return k.div(
      { display: 'flex', alignItems: 'center', flexShrink: 0, marginTop },
      k.div({ display: 'flex', marginRight: gap, flexShrink: 0 }, portraitImg(k, portrait, size)),
      k.div({ display: 'flex', flexDirection: 'column', flexShrink: 1 }, line, credit),
    );
  }
  return k.div(
    { display: 'flex', alignItems: 'baseline', flexShrink: 0, marginTop },
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
}

/**
 * WeChat: the words and the speaker in the centre square; the story's title and
 * the date in the wings. A portrait joins the name in the centre only when the
 * words keep their size and lines beside it; else it leads the right wing.
 */
function quoteBanner(d: QuoteCardData, k: LayoutKit): CardNode {
  const { colors, type } = k.theme;
  const width = centreWidth(k);
  const meta = k.px(type.meta! + 2);
  const labelSize = k.px(type.label!);
  const room = k.format.height - k.px(40) * 2 - k.px(10) - k.px(type.brand!) * 1.6 - k.px(12);
  const words = (whoH: number) =>
    k.block(k.quote(d.text, d.marks), {
      weight: 700,
      max: k.px(type.quoteMax! * 0.8),
      min: k.px(type.quoteMin! * 0.8),
      width,
      maxLines: 4,
      maxHeight: room - whoH - k.px(10),
      lineHeight: 1.4,
    });
  const plain = words(labelSize * NORMAL_LINE);
  // In the centre the portrait stands beside the name alone (its credit goes to the wing).
  const beside = d.portrait ? words(Math.max(portraitSize(k), labelSize * NORMAL_LINE)) : undefined;
  const inCentre = Boolean(
    beside && beside.size === plain.size && beside.lines.join('\n') === plain.lines.join('\n'),
  );
  const wingPortrait = d.portrait && !inCentre;
  const side = Math.min(wingWidth(k), k.px(type.label!) * 3.4);
  return bannerPage(k, {
    left: [
      k.div(
        { display: 'flex', flexDirection: 'column' },
        wingText(k, '專家之言', { size: k.px(type.kicker! + 6), weight: 700, color: colors.primary }),
        wingText(k, d.title, { size: meta, weight: 700, color: colors.ink, maxLines: 4, top: k.px(8) }),
      ),
      wingText(k, d.date, { size: meta }),
    ],
    // The role is too long for the square beside the name: it goes in the wing.
    centre: [
      (inCentre ? beside! : plain).node,
      who(k, { ...d, role: '' }, width, k.px(10), inCentre ? { ...d.portrait!, credit: undefined } : null),
    ],
    right: d.portrait
      ? [
          k.div(
            { display: 'flex', flexDirection: 'column' },
            wingPortrait
              ? k.div(
                  { display: 'flex', marginBottom: k.px(12) },
                  portraitImg(k, d.portrait, Math.round(side)),
                )
              : null,
            wingText(k, d.role, { size: meta, maxLines: 4 }),
            d.portrait.credit
              ? wingText(k, `圖：${d.portrait.credit}`, { size: k.px(type.meta!), maxLines: 2, top: k.px(6) })
              : null,
          ),
        ]
      : [wingText(k, d.role, { size: meta, maxLines: 4 })],
  });
}
