// Shared chrome for every card: the masthead bar and the footer rule.
// Not a layout (no registry entry) — layouts import it.
import type { CardChild, CardNode, LayoutKit } from '../../src/cards/layout-api.ts';

/** The brand mark: the logo image, or the brand name on a primary-colour block. */
export function brandMark(k: LayoutKit, size = k.px(k.theme.type.brand!)): CardNode {
  const { colors, logo } = k.theme;
  const mark = logo.image
    ? k.el('img', { height: size * 1.6 }, null)
    : k.div(
        {
          backgroundColor: colors.primary,
          color: colors.onPrimary,
          fontWeight: 700,
          fontSize: size,
          padding: `${Math.round(size * 0.18)}px ${Math.round(size * 0.45)}px`,
          letterSpacing: size * 0.08,
          lineHeight: 1.15,
          flexShrink: 0,
        },
        logo.text,
      );
  if (logo.image) mark.props.src = logo.image;
  return mark;
}

export function masthead(k: LayoutKit, label: string, right?: string): CardNode {
  const { colors, logo, type } = k.theme;
  const banner = k.format.shape === 'banner';
  const size = k.px(type.brand!);
  const mark = brandMark(k, size);
  // Section label and right-hand text each clamp to one line in the room the mark leaves.
  const markW = logo.image ? size * 4 : k.measure(logo.text, size, 700) * 1.1 + size * 0.9;
  const metaSize = k.px(type.meta!);
  const rightText = right
    ? k.fit(right, { weight: 400, max: metaSize, min: metaSize, width: innerWidth(k) * 0.45, maxLines: 1 })
        .lines[0]
    : undefined;
  const labelRoom =
    innerWidth(k) - markW - k.px(18) - (rightText ? k.measure(rightText, metaSize) + k.px(24) : 0);
  const labelSize = k.px(type.meta! + 2);
  const labelText = k.fit(label, {
    weight: 700,
    max: labelSize,
    min: labelSize,
    width: Math.max(labelRoom, labelSize),
    maxLines: 1,
    letterSpacing: 2 / (type.meta! + 2),
  }).lines[0];
  // Rules are plain boxes, not CSS borders: satori draws a border as a clip path
  // plus a full-card mask, which costs resvg a canvas-sized layer each.
  return k.div(
    { display: 'flex', flexDirection: 'column', flexShrink: 0 },
    k.div(
      {
        display: 'flex',
        alignItems: 'center',
        justifyContent: 'space-between',
        paddingBottom: k.px(banner ? 10 : 16),
      },
      k.div(
        { display: 'flex', alignItems: 'center' },
        mark,
        k.div(
          {
            marginLeft: k.px(18),
            fontSize: k.px(type.meta! + 2),
            color: colors.ink,
            fontWeight: 700,
            letterSpacing: k.px(2),
          },
          labelText,
        ),
      ),
      rightText ? k.div({ fontSize: metaSize, color: colors.muted, whiteSpace: 'pre' }, rightText) : null,
    ),
    rule(k, Math.max(2, k.px(3)), colors.primary),
  );
}

/** A horizontal rule as a filled box. */
export function rule(k: LayoutKit, height: number, color: string): CardNode {
  return k.div({ height, backgroundColor: color, flexShrink: 0 });
}

/**
 * The footer: credit or byline on the left (clamped to one line), the date kept
 * whole after it (never split: 2025年11月10日), the brand on the right.
 */
export function footer(k: LayoutKit, left: string, date?: string, right?: string): CardNode {
  const { colors, type } = k.theme;
  const size = k.px(type.meta!);
  const brand = right ?? k.theme.brand.host;
  const gap = k.px(24);
  const dateW = date ? k.measure(date, size) : 0;
  const room = innerWidth(k) - k.measure(brand, size, 700) - gap - (date ? dateW + size : 0);
  const credit = left ? clampCredit(k, left, size, Math.max(room, size)) : '';
  const leftText = [credit, date].filter(Boolean).join('　');
  return k.div(
    { display: 'flex', flexDirection: 'column', flexShrink: 0 },
    rule(k, Math.max(1, k.px(1)), colors.rule),
    k.div(
      {
        display: 'flex',
        justifyContent: 'space-between',
        alignItems: 'center',
        paddingTop: k.px(14),
        fontSize: size,
        color: colors.muted,
      },
      k.div({ display: 'flex', whiteSpace: 'pre' }, leftText),
      k.div({ display: 'flex', color: colors.primary, fontWeight: 700, whiteSpace: 'pre' }, brand),
    ),
  );
}

/**
 * A byline or credit on one line. Names are never cut: a list of names
 * (郭瀚林、陳大文、李小明) loses names from the end and ends in 等, as the paper
 * writes it; only a single name or credit too long for the line is clamped.
 */
function clampCredit(k: LayoutKit, text: string, size: number, room: number): string {
  const fits = (t: string) => k.measure(t, size) <= room * 0.97;
  if (fits(text)) return text;
  const segs = text.split('　');
  for (let si = segs.length - 1; si >= 0; si--) {
    const names = segs[si]!.split('、');
    while (names.length > 1) {
      names.pop();
      const cand = [...segs.slice(0, si), `${names.join('、')}等`].join('　');
      if (fits(cand)) return cand;
    }
  }
  return k.fit(text, { weight: 400, max: size, min: size, width: room, maxLines: 1 }).lines[0] ?? '';
}

/** Line height satori gives a box with line-height normal (Noto Sans HK ascender + descender). */
export const NORMAL_LINE = 1.45;

/** Heights of the chrome, so layouts can reserve them before fitting text (the footer is never pushed off). */
export function mastheadHeight(k: LayoutKit): number {
  const { type } = k.theme;
  const banner = k.format.shape === 'banner';
  const size = k.px(type.brand!);
  const mark = k.theme.logo.image ? size * 1.6 : size * 1.15 + 2 * Math.round(size * 0.18);
  const label = k.px(type.meta! + 2) * NORMAL_LINE;
  return Math.max(mark, label) + k.px(banner ? 10 : 16) + Math.max(2, k.px(3));
}

export function footerHeight(k: LayoutKit): number {
  return Math.max(1, k.px(1)) + k.px(14) + k.px(k.theme.type.meta!) * NORMAL_LINE;
}

/** Page padding: the safe area's margin. */
export function pagePadding(k: LayoutKit): number {
  return k.format.shape === 'banner' ? k.px(40) : k.format.shape === 'wide' ? k.px(56) : k.px(64);
}

/**
 * The page's margins. Where the theme names a platform's safe zones for this
 * format (story: the app's own header and reply bar), the content starts below
 * the top zone and ends above the bottom one, with a margin of air.
 */
export function pageInsets(k: LayoutKit): { side: number; top: number; bottom: number } {
  const pad = pagePadding(k);
  const zone = k.theme.safeZones?.[k.format.name];
  const air = k.px(24);
  return {
    side: pad,
    top: zone?.top ? Math.max(pad, zone.top + air) : pad,
    bottom: zone?.bottom ? Math.max(pad, zone.bottom + air) : pad,
  };
}

/** Inner height of the page minus masthead and (unless banner) footer: what the body can use. */
export function bodyHeight(k: LayoutKit): number {
  const banner = k.format.shape === 'banner';
  const { top, bottom } = pageInsets(k);
  return k.format.height - top - bottom - mastheadHeight(k) - (banner ? 0 : footerHeight(k));
}

export function page(k: LayoutKit, ...children: CardChild[]): CardNode {
  const { side, top, bottom } = pageInsets(k);
  return k.div(
    {
      display: 'flex',
      flexDirection: 'column',
      width: k.format.width,
      height: k.format.height,
      // The shorthand first (tools read it as the side margin), then the top and bottom.
      padding: side,
      paddingTop: top,
      paddingBottom: bottom,
      backgroundColor: k.theme.colors.paper,
      color: k.theme.colors.ink,
      position: 'relative',
    },
    // The red top edge of the card — not where a platform covers the top with its own UI.
    top > pagePadding(k)
      ? null
      : k.div({
          position: 'absolute',
          top: 0,
          left: 0,
          width: k.format.width,
          height: k.px(10),
          backgroundColor: k.theme.colors.primary,
        }),
    ...children,
  );
}

/** Inner width of the page (what text can use). */
export function innerWidth(k: LayoutKit): number {
  return k.format.width - 2 * pagePadding(k);
}
