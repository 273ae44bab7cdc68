// Shared chrome for every card: the masthead bar and the footer rule.
// Not a layout (no registry entry) — layouts import it.
import type { CardChild, CardNode, LayoutKit } from '../../src/cards/layout-api.ts';

export function masthead(k: LayoutKit, label: string, right?: string): CardNode {
  const { colors, logo, type } = k.theme;
  const banner = k.format.shape === 'banner';
  const size = k.px(type.brand!);
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
        },
        logo.text,
      );
  if (logo.image) mark.props.src = logo.image;
  // Rules are plain boxes, not CSS borders: satori draws a border as a clip path
  // plus a full-card mask, which costs resvg a canvas-sized layer each.
  return k.div(
    { display: 'flex', flexDirection: 'column' },
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
          label,
        ),
      ),
      right ? k.div({ fontSize: k.px(type.meta!), color: colors.muted }, right) : null,
    ),
    rule(k, Math.max(2, k.px(3)), colors.primary),
  );
}

/** A horizontal rule as a filled box. */
export function rule(k: LayoutKit, height: number, color: string): CardNode {
  return k.div({ height, backgroundColor: color, flexShrink: 0 });
}

export function footer(k: LayoutKit, left: string, right?: string): CardNode {
  const { colors, type } = k.theme;
  return k.div(
    { display: 'flex', flexDirection: 'column' },
    rule(k, Math.max(1, k.px(1)), colors.rule),
    k.div(
      {
        display: 'flex',
        justifyContent: 'space-between',
        alignItems: 'center',
        paddingTop: k.px(14),
        fontSize: k.px(type.meta!),
        color: colors.muted,
      },
      k.div({ display: 'flex' }, left),
      k.div({ display: 'flex', color: colors.primary, fontWeight: 700 }, right ?? k.theme.brand.host),
    ),
  );
}

export function page(k: LayoutKit, ...children: CardChild[]): CardNode {
  const pad = k.format.shape === 'banner' ? k.px(40) : k.format.shape === 'wide' ? k.px(56) : k.px(64);
  return k.div(
    {
      display: 'flex',
      flexDirection: 'column',
      width: k.format.width,
      height: k.format.height,
      padding: pad,
      backgroundColor: k.theme.colors.paper,
      color: k.theme.colors.ink,
      position: 'relative',
    },
    // The red top edge of the card.
    k.div({
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
  const pad = k.format.shape === 'banner' ? k.px(40) : k.format.shape === 'wide' ? k.px(56) : k.px(64);
  return k.format.width - 2 * pad;
}
