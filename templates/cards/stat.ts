// Stat card: one 數讀 figure — big number with unit (or display text), label,
// period, change ▲/▼ against a reference, credit.
import type { CardNode, LayoutKit, StatCardData } from '../../src/cards/layout-api.ts';
import { bannerPage, centreWidth, wingText, wingWidth } from './_banner.ts';
import { change, figure } from './_figure.ts';
import { footer, innerWidth, masthead, page } from './_frame.ts';
import { statCentre, statWing } from './_stat-banner.ts';

export default function stat(d: StatCardData, k: LayoutKit) {
  const { colors, type } = k.theme;
  const shape = k.format.shape;
  if (shape === 'banner') return statBanner(d, k);
  if (shape === 'wide') return statWide(d, k);
  const inner = innerWidth(k);
  const s = d.stat;
  const banner = shape === 'banner';
  const figSize = k.px(
    type.figure! * (shape === 'tall' ? 1.5 : shape === 'square' ? 1.25 : banner ? 0.7 : 0.85),
  );
  const label = k.text(s.label, {
    weight: 700,
    max: k.px(type.label! * (shape === 'wide' || banner ? 1 : 1.15)),
    min: k.px(type.label! - 8),
    width: inner,
    maxLines: banner ? 1 : 2,
    lineHeight: 1.35,
    style: { marginTop: k.px(banner ? 8 : 18) },
  });
  const body = k.div(
    {
      display: 'flex',
      flexDirection: 'column',
      flexGrow: 1,
      justifyContent: 'center',
      marginTop: k.px(banner ? 8 : 12),
      marginBottom: k.px(banner ? 0 : 16),
    },
    k.div(
      {
        display: 'flex',
        fontSize: k.px(type.kicker!),
        fontWeight: 700,
        color: colors.primary,
        whiteSpace: 'pre',
        flexShrink: 0,
        marginBottom: k.px(banner ? 6 : 12),
      },
      k.fit(d.heading, {
        weight: 700,
        max: k.px(type.kicker!),
        min: k.px(type.kicker!),
        width: inner,
        maxLines: 1,
      }).lines[0],
    ),
    figure(k, s, figSize, inner, colors.primary),
    label,
    s.period && !banner
      ? k.div(
          { display: 'flex', fontSize: k.px(type.meta! + 2), color: colors.muted, marginTop: k.px(10) },
          s.period,
        )
      : null,
    banner
      ? null
      : k.div({ display: 'flex', marginTop: k.px(10) }, change(k, s, k.px(type.meta! + 4), inner)),
  );
  return page(
    k,
    masthead(k, '數讀', d.setTitle.replace(/^數讀/, '')),
    body,
    banner ? null : footer(k, d.credit, d.date),
  );
}

/**
 * og / x: the words in a column on the left, the figure on a tinted panel on
 * the right — the width is used, the footer stays reserved below both.
 */
function statWide(d: StatCardData, k: LayoutKit): CardNode {
  const { colors, type } = k.theme;
  const s = d.stat;
  const inner = innerWidth(k);
  const gap = k.px(36);
  const textW = Math.round(inner * 0.46);
  const panelW = inner - textW - gap;
  const pad = k.px(28);
  const text = k.div(
    { display: 'flex', flexDirection: 'column', width: textW, flexShrink: 0, justifyContent: 'center' },
    k.text(d.heading, {
      weight: 700,
      max: k.px(type.kicker!),
      min: k.px(type.kicker!),
      width: textW,
      maxLines: 1,
      color: colors.primary,
    }),
    k.text(s.label, {
      weight: 700,
      max: k.px(type.headlineMin!),
      min: k.px(type.label! - 6),
      width: textW,
      maxLines: 3,
      lineHeight: 1.3,
      style: { marginTop: k.px(12) },
    }),
    s.period
      ? k.text(s.period, {
          weight: 400,
          max: k.px(type.meta! + 2),
          min: k.px(type.meta!),
          width: textW,
          maxLines: 2,
          color: colors.muted,
          style: { marginTop: k.px(12) },
        })
      : null,
    s.change
      ? k.div({ display: 'flex', marginTop: k.px(12) }, change(k, s, k.px(type.meta! + 4), textW))
      : null,
  );
  const panel = k.div(
    {
      display: 'flex',
      width: panelW,
      flexShrink: 0,
      marginLeft: gap,
      backgroundColor: colors.tint,
      alignItems: 'center',
      justifyContent: 'center',
      position: 'relative',
    },
    k.div({
      position: 'absolute',
      top: 0,
      left: 0,
      width: panelW,
      height: k.px(6),
      backgroundColor: colors.primary,
    }),
    figure(k, s, k.px(type.figure! * 1.1), panelW - 2 * pad, colors.primary),
  );
  return page(
    k,
    masthead(k, '數讀', d.setTitle.replace(/^數讀/, '')),
    k.div(
      { display: 'flex', flexDirection: 'row', flexGrow: 1, marginTop: k.px(28), marginBottom: k.px(24) },
      text,
      panel,
    ),
    footer(k, d.credit, d.date),
  );
}

/** WeChat: heading, the figure and its label in the centre square; set title, period, change in the wings. */
function statBanner(d: StatCardData, k: LayoutKit): CardNode {
  const { type } = k.theme;
  const s = d.stat;
  const width = centreWidth(k);
  const meta = k.px(type.meta! + 2);
  return bannerPage(k, {
    left: statWing(k, d),
    centre: [...statCentre(k, d.heading, s, width)],
    right: [
      k.div(
        { display: 'flex', flexDirection: 'column' },
        wingText(k, s.period, { size: meta, maxLines: 2 }),
        s.change ? k.div({ display: 'flex', marginTop: k.px(8) }, change(k, s, meta, wingWidth(k))) : null,
      ),
    ],
  });
}
