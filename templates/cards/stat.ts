// Stat card: one 數讀 figure — big number with unit (or display text), label,
// period, change ▲/▼ against a reference, credit.
import type { LayoutKit, StatCardData } from '../../src/cards/layout-api.ts';
import { change, figure } from './_figure.ts';
import { footer, innerWidth, masthead, page } from './_frame.ts';

export default function stat(d: StatCardData, k: LayoutKit) {
  const { colors, type } = k.theme;
  const shape = k.format.shape;
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
