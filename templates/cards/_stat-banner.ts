// The WeChat banner parts a stat card and a statset card share: the left wing
// (數讀, the set's title, credit and date) and the centre square's figure
// block (group heading, the key figure, its label).
import type { CardNode, LayoutKit } from '../../src/cards/layout-api.ts';
import type { Stat } from '../../src/content/model.ts';
import { wingText } from './_banner.ts';
import { figure } from './_figure.ts';

export function statWing(k: LayoutKit, d: { setTitle: string; credit: string; date: string }): CardNode[] {
  const { colors, type } = k.theme;
  const meta = k.px(type.meta! + 2);
  return [
    k.div(
      { display: 'flex', flexDirection: 'column' },
      wingText(k, '數讀', { size: k.px(type.kicker! + 6), weight: 700, color: colors.primary }),
      wingText(k, d.setTitle.replace(/^數讀/, ''), {
        size: meta,
        weight: 700,
        color: colors.ink,
        maxLines: 2,
      }),
    ),
    k.div(
      { display: 'flex', flexDirection: 'column' },
      wingText(k, d.credit, { size: k.px(type.meta! - 2), maxLines: 2 }),
      wingText(k, d.date, { size: meta }),
    ),
  ];
}

export function statCentre(k: LayoutKit, heading: string, s: Stat, width: number): CardNode[] {
  const { colors, type } = k.theme;
  return [
    k.text(heading, {
      weight: 700,
      max: k.px(type.kicker!),
      min: k.px(type.kicker! - 6),
      width,
      maxLines: 1,
      color: colors.primary,
      style: { marginBottom: k.px(6) },
    }),
    figure(k, s, k.px(type.figure! * 0.8), width, colors.primary),
    k.text(s.label, {
      weight: 700,
      max: k.px(type.label!),
      min: k.px(type.label! - 8),
      width,
      maxLines: 2,
      lineHeight: 1.35,
      style: { marginTop: k.px(10) },
    }),
  ];
}
