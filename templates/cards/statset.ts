// Statset card: one 數讀 group — 2–4 figures side by side (or stacked on tall
// formats), or a bar chart when the figures share a unit and can be compared.
import type { CardNode, LayoutKit, StatSetCardData } from '../../src/cards/layout-api.ts';
import type { Stat } from '../../src/content/model.ts';
import { bannerPage, centreWidth, wingText } from './_banner.ts';
import { change, figure, figureSize } from './_figure.ts';
import { bodyHeight, footer, innerWidth, masthead, NORMAL_LINE, page } from './_frame.ts';
import { statCentre, statWing } from './_stat-banner.ts';

/**
 * Which figure a card stresses: the one the stat set marks `highlight: true`,
 * else on a chart the largest, else the first (the paper's own order).
 */
export function highlightIndex(stats: Stat[], chart: boolean): number {
  const marked = stats.findIndex((s) => (s as Stat & { highlight?: boolean }).highlight === true);
  if (marked >= 0) return marked;
  if (!chart) return 0;
  let best = 0;
  stats.forEach((s, i) => {
    if (Math.abs(s.value) > Math.abs(stats[best]!.value)) best = i;
  });
  return best;
}

export default function statset(d: StatSetCardData, k: LayoutKit) {
  const { type } = k.theme;
  const shape = k.format.shape;
  if (shape === 'banner') return statsetBanner(d, k);
  const inner = innerWidth(k);
  const heading = k.text(d.heading, {
    weight: 700,
    max: k.px(type.headlineMin! + (shape === 'tall' ? 8 : 0)),
    min: k.px(type.kicker!),
    width: inner,
    maxLines: 1,
    style: { marginBottom: k.px(20) },
  });

  const headingH = k.px(type.headlineMin! + (shape === 'tall' ? 8 : 0)) * 1.3 + k.px(20);
  const avail = bodyHeight(k) - k.px(28) - k.px(20) - headingH;
  const content = d.chart ? chart(d, k, avail) : grid(d, k, avail);
  return page(
    k,
    masthead(k, '數讀', d.setTitle.replace(/^數讀/, '')),
    k.div(
      {
        display: 'flex',
        flexDirection: 'column',
        flexGrow: 1,
        marginTop: k.px(28),
        marginBottom: k.px(20),
      },
      heading,
      content,
    ),
    footer(k, d.credit, d.date),
  );
}

/** WeChat: heading and the key figure in the centre square; the other figures, title and credit in the wings. */
function statsetBanner(d: StatSetCardData, k: LayoutKit): CardNode {
  const { colors, type } = k.theme;
  const stats = d.stats.slice(0, 4);
  const key = highlightIndex(stats, d.chart);
  const s = stats[key]!;
  const width = centreWidth(k);
  const meta = k.px(type.meta! + 2);
  const others = stats.filter((_, i) => i !== key);
  return bannerPage(k, {
    left: statWing(k, d),
    centre: [
      ...statCentre(k, d.heading, s, width),
      s.period
        ? k.text(s.period, { weight: 400, max: meta, min: meta - 4, width, maxLines: 1, color: colors.muted })
        : null,
    ],
    right: [
      k.div(
        { display: 'flex', flexDirection: 'column' },
        ...others.map((o, i) => {
          const f = k.figure(o.value, o.unit);
          return k.div(
            { display: 'flex', flexDirection: 'column', marginTop: i ? k.px(14) : 0 },
            wingText(k, o.display ?? `${f.num}${f.unit}`, {
              size: k.px(type.label! + 4),
              weight: 700,
              color: colors.primary,
            }),
            wingText(k, [o.label, o.period].filter(Boolean).join('　'), {
              size: meta,
              maxLines: others.length > 2 ? 1 : 2,
            }),
          );
        }),
      ),
    ],
  });
}

/**
 * A bar chart on one scale: every bar is measured against the same maximum
 * over the same length (the value labels sit outside that length, right of
 * the longest), from a common zero line — so 9000 against 4500 draws exactly
 * half. The highlight goes to the figure highlightIndex picks, not the first.
 */
function chart(d: StatSetCardData, k: LayoutKit, avail: number): CardNode {
  const { colors, type } = k.theme;
  const shape = k.format.shape;
  const inner = innerWidth(k);
  const stats = d.stats.slice(0, 4);
  const hi = highlightIndex(stats, true);
  const max = Math.max(...stats.map((s) => Math.abs(s.value)));
  // Rows share the body's height: label + bar + gap for every row grow
  // together to fill it (up to 1.8× on square, 2.6× on tall cards: no blank
  // band above the chart) or shrink together when they would not fit. Square
  // and tall cards let a label take two lines; the height counts the lines
  // each label really takes at that size.
  const maxLabelLines = shape === 'wide' ? 1 : 2;
  const base = { gap: k.px(shape === 'tall' ? 40 : 22), label: k.px(type.meta! + 4), bar: k.px(34) };
  const grow = shape === 'wide' ? 1 : shape === 'square' ? 1.8 : 2.6;
  const sizes = (f: number) => ({
    rowGap: Math.round(base.gap * f),
    labelSize: Math.max(10, Math.round(base.label * Math.min(1.5, f * 1.1))),
    barH: Math.max(4, Math.round(base.bar * f)),
    valueSize: Math.max(10, Math.round(k.px(type.label!) * Math.min(1.8, f * 1.1))),
  });
  const height = (z: ReturnType<typeof sizes>) => {
    const lines = Math.max(
      ...stats.map(
        (s) =>
          k.fit(s.label, {
            weight: 700,
            max: z.labelSize,
            min: z.labelSize - 4,
            width: inner,
            maxLines: maxLabelLines,
          }).lines.length,
      ),
    );
    return (
      stats.length * (lines * z.labelSize * 1.3 + k.px(6) + Math.max(z.barH, z.valueSize * NORMAL_LINE)) +
      (stats.length - 1) * z.rowGap
    );
  };
  let f = grow;
  while (f > 0.3 && height(sizes(f)) > avail * 0.92) f -= 0.1;
  const { rowGap, labelSize, barH, valueSize: valueMax } = sizes(f * 0.88 ** k.squeeze);
  const labelLines = maxLabelLines;
  const valueText = (s: Stat) => {
    const fig = k.figure(s.value, s.unit);
    return s.display ?? `${fig.num}${fig.unit}`;
  };
  const gap = k.px(14);
  const axis = Math.max(2, k.px(2));
  // Value labels size down until the longest takes at most 40% of the width: the scale keeps the rest.
  const widest = (size: number) => Math.max(...stats.map((s) => k.measure(valueText(s), size, 700)));
  let valueSize = valueMax;
  while (valueSize > 10 && widest(valueSize) > inner * 0.4) valueSize -= 1;
  const labelRoom = widest(valueSize) + gap;
  const scale = inner - axis - labelRoom;
  return k.div(
    { display: 'flex', flexDirection: 'row', flexGrow: 1, alignItems: 'center' },
    k.div(
      { display: 'flex', flexDirection: 'column', width: inner },
      ...stats.map((s, i) =>
        k.div(
          { display: 'flex', flexDirection: 'column', marginTop: i ? rowGap : 0 },
          k.text(s.label, {
            weight: i === hi ? 700 : 400,
            max: labelSize,
            min: labelSize - 4,
            width: inner,
            maxLines: labelLines,
            color: colors.ink,
          }),
          k.div(
            { display: 'flex', alignItems: 'center', marginTop: k.px(6) },
            // The zero line: every bar starts on it.
            k.div({ width: axis, height: barH + k.px(8), backgroundColor: colors.ink, flexShrink: 0 }),
            k.div({
              // A zero draws nothing; anything else at least a hairline.
              width:
                s.value === 0 || max === 0 ? 0 : Math.max(1, Math.round((scale * Math.abs(s.value)) / max)),
              height: barH,
              flexShrink: 0,
              backgroundColor: i === hi ? colors.primary : colors.accent,
              opacity: i === hi ? 1 : 0.45,
            }),
            k.div(
              {
                fontSize: valueSize,
                fontWeight: 700,
                color: i === hi ? colors.primary : colors.ink,
                marginLeft: gap,
                whiteSpace: 'pre',
                flexShrink: 0,
              },
              valueText(s),
            ),
          ),
        ),
      ),
    ),
  );
}

/** Rows × columns for n figures with no empty cell: a row of n on wide cards, 2×2 for four, else one per row. */
export function arrangement(n: number, shape: string): { rows: number; cols: number } {
  const cols = shape === 'wide' ? n : n === 4 ? 2 : 1;
  return { rows: Math.ceil(n / cols), cols };
}

/**
 * Figures that do not share a scale: tiles filling the body, every figure at
 * the same size (the smallest that fits every tile), labels starting at the
 * same height. A tile in a one-column arrangement puts its text right of the figure.
 */
function grid(d: StatSetCardData, k: LayoutKit, avail: number): CardNode {
  const { colors, type } = k.theme;
  const shape = k.format.shape;
  const inner = innerWidth(k);
  const stats = d.stats.slice(0, 4);
  const { rows, cols } = arrangement(stats.length, shape);
  const gap = k.px(28);
  const cellW = Math.floor((inner - gap * (cols - 1)) / cols);
  const cellH = (avail - gap * (rows - 1)) / rows;
  const side = cols === 1 && stats.length > 1;
  const padX = k.px(18);
  const figW = side ? Math.round(cellW * 0.46) - padX : cellW - 2 * padX;
  const textW = side ? cellW - figW - 3 * padX : cellW - 2 * padX;
  const want = Math.min(k.px(type.figure! * (side ? 0.8 : 0.7)), Math.round(cellH * (side ? 0.5 : 0.36)));
  const big = Math.min(...stats.map((s) => figureSize(k, s, want, figW)));
  const text = (s: Stat) =>
    k.div(
      { display: 'flex', flexDirection: 'column', width: textW },
      k.text(s.label, {
        weight: 400,
        max: k.px(type.meta! + (side ? 8 : 4)),
        min: k.px(type.meta! - 2),
        width: textW,
        maxLines: 3,
        lineHeight: 1.4,
        style: { marginTop: side ? 0 : k.px(10) },
      }),
      s.period
        ? k.text(s.period, {
            weight: 400,
            max: k.px(type.meta!),
            min: k.px(type.meta! - 4),
            width: textW,
            maxLines: 2,
            style: { color: colors.muted, marginTop: k.px(6) },
          })
        : null,
      s.change ? k.div({ display: 'flex', marginTop: k.px(6) }, change(k, s, k.px(type.meta!), textW)) : null,
    );
  const cell = (s: Stat, c: number) =>
    k.div(
      {
        display: 'flex',
        flexDirection: side ? 'row' : 'column',
        alignItems: side ? 'center' : 'flex-start',
        width: cellW,
        flexShrink: 0,
        marginLeft: c ? gap : 0,
        padding: `${k.px(18)}px ${padX}px`,
        boxSizing: 'border-box',
        backgroundColor: colors.tint,
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
      // A fixed-height box for the figure: the labels after it start at the same height in every tile.
      k.div(
        {
          display: 'flex',
          width: figW,
          height: Math.round(big * 1.05),
          alignItems: 'flex-end',
          flexShrink: 0,
        },
        figure(k, s, big, figW, colors.primary, { exact: true }),
      ),
      side ? k.div({ width: padX, flexShrink: 0 }) : null,
      text(s),
    );
  const rowsOf = Array.from({ length: rows }, (_, r) => stats.slice(r * cols, r * cols + cols));
  return k.div(
    { display: 'flex', flexDirection: 'column', flexGrow: 1 },
    ...rowsOf.map((row, r) =>
      k.div(
        { display: 'flex', flexDirection: 'row', flexGrow: 1, flexBasis: 0, marginTop: r ? gap : 0 },
        ...row.map((s, c) => cell(s, c)),
      ),
    ),
  );
}
