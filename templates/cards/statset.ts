// Statset card: one 數讀 group — 2–4 figures side by side (or stacked on tall
// formats), or a bar chart when the figures share a unit and can be compared.
import type { CardNode, LayoutKit, StatSetCardData } from '../../src/cards/layout-api.ts';
import { change, figure } from './_figure.ts';
import { bodyHeight, footer, innerWidth, masthead, NORMAL_LINE, page } from './_frame.ts';

export default function statset(d: StatSetCardData, k: LayoutKit) {
  const { colors, type } = k.theme;
  const shape = k.format.shape;
  const banner = shape === 'banner';
  const inner = innerWidth(k);
  const stats = d.stats.slice(0, 4);
  const heading = k.text(d.heading, {
    weight: 700,
    max: k.px(type.headlineMin! + (shape === 'tall' ? 8 : 0)),
    min: k.px(type.kicker!),
    width: inner,
    maxLines: 1,
    style: { marginBottom: k.px(banner ? 6 : 20) },
  });

  let content: CardNode;
  if (d.chart) {
    const max = Math.max(...stats.map((s) => Math.abs(s.value)), 1);
    // Rows share the body's height: when label + bar + gap for every row would
    // not fit above the footer, all three shrink together.
    const headingH = k.px(type.headlineMin! + (shape === 'tall' ? 8 : 0)) * 1.3 + k.px(banner ? 6 : 20);
    const avail = bodyHeight(k) - k.px(banner ? 10 : 28) - k.px(banner ? 0 : 20) - headingH;
    const want = (label: number, bar: number, gap: number) =>
      stats.length * (label * 1.3 + k.px(6) + Math.max(bar, k.px(type.label!) * NORMAL_LINE)) +
      (stats.length - 1) * gap;
    const base = {
      gap: k.px(banner ? 8 : shape === 'tall' ? 40 : 22),
      label: k.px(type.meta! + (banner ? 0 : 4)),
      bar: k.px(banner ? 18 : 34),
    };
    const f = Math.min(1, avail / want(base.label, base.bar, base.gap)) * 0.88 ** k.squeeze;
    const rowGap = Math.round(base.gap * f);
    const labelSize = Math.max(10, Math.round(base.label * Math.min(1, f * 1.1)));
    const barH = Math.max(4, Math.round(base.bar * f));
    const valueSize = Math.max(10, Math.round(k.px(type.label!) * Math.min(1, f * 1.1)));
    content = k.div(
      { display: 'flex', flexDirection: 'column', flexGrow: 1, justifyContent: 'center' },
      ...stats.map((s, i) => {
        const fig = k.figure(s.value, s.unit);
        const valueText = s.display ?? `${fig.num}${fig.unit}`;
        const valueW = k.measure(valueText, valueSize, 700) + k.px(20);
        const barMax = inner - valueW;
        return k.div(
          { display: 'flex', flexDirection: 'column', marginTop: i ? rowGap : 0 },
          k.text(s.label, {
            weight: 400,
            max: labelSize,
            min: labelSize - 4,
            width: inner,
            maxLines: 1,
            color: colors.ink,
          }),
          k.div(
            { display: 'flex', alignItems: 'center', marginTop: k.px(6) },
            k.div({
              width: Math.max(k.px(6), Math.round((barMax * Math.abs(s.value)) / max)),
              height: barH,
              backgroundColor: i === 0 ? colors.primary : colors.accent,
              opacity: i === 0 ? 1 : 0.55,
            }),
            k.div(
              {
                fontSize: valueSize,
                fontWeight: 700,
                color: colors.primary,
                marginLeft: k.px(14),
                whiteSpace: 'pre',
              },
              valueText,
            ),
          ),
        );
      }),
    );
  } else {
    const columns = shape === 'wide' || banner ? stats.length : stats.length > 2 ? 2 : 1;
    const rows = Math.ceil(stats.length / columns);
    const gap = k.px(banner ? 16 : 28);
    const cellW = Math.floor((inner - gap * (columns - 1)) / columns);
    const bodyH = k.format.height * (banner ? 0.5 : 0.62);
    const figSize = Math.min(k.px(type.figure! * 0.7), Math.round((bodyH / rows) * 0.42));
    const cells = stats.map((s) =>
      k.div(
        {
          display: 'flex',
          flexDirection: 'column',
          width: cellW,
          padding: `${k.px(banner ? 8 : 18)}px ${k.px(banner ? 0 : 18)}px`,
          boxSizing: 'border-box',
          backgroundColor: banner ? colors.paper : colors.tint,
          marginBottom: rows > 1 ? gap : 0,
          position: 'relative',
        },
        k.div({
          position: 'absolute',
          top: 0,
          left: 0,
          width: cellW,
          height: k.px(4),
          backgroundColor: colors.primary,
        }),
        figure(k, s, figSize, cellW - k.px(36), colors.primary),
        k.text(s.label, {
          weight: 400,
          max: k.px(type.meta! + 2),
          min: k.px(type.meta! - 2),
          width: cellW - k.px(36),
          maxLines: banner ? 1 : 3,
          lineHeight: 1.4,
          style: { marginTop: k.px(10) },
        }),
        // The banner has room for the period only where it tells two figures
        // with the same label apart (17.5% in 2023 vs 0.3% now).
        !s.period || (banner && stats.filter((o) => o.label === s.label).length < 2)
          ? null
          : k.text(s.period, {
              weight: 400,
              max: k.px(type.meta! - 2),
              min: k.px(type.meta! - 4),
              width: cellW - k.px(36),
              maxLines: banner ? 1 : 2,
              style: { color: colors.muted, marginTop: k.px(6) },
            }),
        banner
          ? null
          : k.div(
              { display: 'flex', marginTop: k.px(6) },
              change(k, s, k.px(type.meta! - 2), cellW - k.px(36)),
            ),
      ),
    );
    content = k.div(
      {
        display: 'flex',
        flexWrap: 'wrap',
        justifyContent: 'space-between',
        alignContent: 'center',
        flexGrow: 1,
      },
      ...cells,
    );
  }
  return page(
    k,
    masthead(k, '數讀', d.setTitle.replace(/^數讀/, '')),
    k.div(
      {
        display: 'flex',
        flexDirection: 'column',
        flexGrow: 1,
        marginTop: k.px(banner ? 10 : 28),
        marginBottom: k.px(banner ? 0 : 20),
      },
      heading,
      content,
    ),
    banner ? null : footer(k, d.credit, d.date),
  );
}
