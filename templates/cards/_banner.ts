// The WeChat banner (900×383). WeChat shows the whole banner on the article
// page, but a shared link or a subscription-list thumbnail shows only the
// centre square (383×383, x 258–641). So the centre holds the brand mark and
// the key message (the figure, or the headline); the wings carry only what
// can be lost (section, date, dek, photo, further figures).
// Not a layout (no registry entry) — layouts import it.
import type { CardChild, CardNode, LayoutKit } from '../../src/cards/layout-api.ts';
import { brandMark, pagePadding } from './_frame.ts';

/** The centre square's left and right edge (x) on this format. */
export function centreSquare(k: LayoutKit): { x0: number; x1: number } {
  const side = k.format.height;
  const x0 = Math.round((k.format.width - side) / 2);
  return { x0, x1: x0 + side };
}

/** Air between a wing's text and the centre square's edge. */
const gutter = (k: LayoutKit) => k.px(28);

/** Width the centre's text can use. */
export function centreWidth(k: LayoutKit): number {
  const { x0, x1 } = centreSquare(k);
  return x1 - x0 - 2 * gutter(k);
}

/** Width a wing's text can use (page padding on the outside, a gutter towards the centre). */
export function wingWidth(k: LayoutKit): number {
  return centreSquare(k).x0 - pagePadding(k) - gutter(k);
}

export interface BannerParts {
  /** Left wing: a column of text, or `photo` filling the wing edge to edge. */
  left?: CardChild[];
  photo?: CardNode;
  centre: CardChild[];
  right?: CardChild[];
}

export function bannerPage(k: LayoutKit, parts: BannerParts): CardNode {
  const { colors } = k.theme;
  const { width, height } = k.format;
  const pad = pagePadding(k);
  const g = gutter(k);
  const { x0, x1 } = centreSquare(k);
  const col = (style: Record<string, unknown>, children: CardChild[]) =>
    k.div(
      {
        position: 'absolute',
        top: 0,
        height,
        boxSizing: 'border-box',
        display: 'flex',
        flexDirection: 'column',
        ...style,
      },
      ...children,
    );
  return k.div(
    {
      display: 'flex',
      width,
      height,
      // The safe area for the overflow check: every text run stays inside it.
      padding: pad,
      backgroundColor: colors.paper,
      color: colors.ink,
      position: 'relative',
    },
    parts.photo
      ? col({ left: 0, width: x0 }, [parts.photo])
      : col(
          {
            left: 0,
            width: x0,
            padding: `${pad}px ${g}px ${pad}px ${pad}px`,
            justifyContent: 'space-between',
          },
          [...(parts.left ?? [])],
        ),
    col(
      {
        left: x0,
        width: x1 - x0,
        padding: `${pad + k.px(10)}px ${g}px ${pad}px ${g}px`,
        alignItems: 'center',
      },
      [
        brandMark(k),
        k.div(
          {
            display: 'flex',
            flexDirection: 'column',
            flexGrow: 1,
            justifyContent: 'center',
            width: x1 - x0 - 2 * g,
            marginTop: k.px(12),
          },
          ...parts.centre,
        ),
      ],
    ),
    col(
      {
        left: x1,
        width: width - x1,
        padding: `${pad}px ${pad}px ${pad}px ${g}px`,
        justifyContent: 'space-between',
      },
      [...(parts.right ?? [])],
    ),
    // Hairlines at the crop's edges: they frame the square on the article page
    // and fall exactly on the edge of the shared thumbnail.
    ...[x0, x1 - 1].map((left) =>
      k.div({
        position: 'absolute',
        left,
        top: pad,
        width: 1,
        height: height - 2 * pad,
        backgroundColor: colors.rule,
      }),
    ),
    // The red top edge runs the full width, as on every card.
    k.div({
      position: 'absolute',
      top: 0,
      left: 0,
      width,
      height: k.px(10),
      backgroundColor: colors.primary,
    }),
  );
}

/** A wing's small text: one block clamped to the wing. */
export function wingText(
  k: LayoutKit,
  text: string | undefined,
  o: { size: number; weight?: 400 | 700; color?: string; maxLines?: number; top?: number },
): CardNode | null {
  if (!text) return null;
  return k.text(text, {
    weight: o.weight ?? 400,
    max: o.size,
    min: Math.max(10, o.size - 4),
    width: wingWidth(k),
    maxLines: o.maxLines ?? 1,
    color: o.color ?? k.theme.colors.muted,
    lineHeight: 1.45,
    style: o.top ? { marginTop: o.top } : undefined,
  });
}
