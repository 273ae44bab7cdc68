import type { Stat } from '../../content/model.ts';
import { formatChange, formatFigure, type NumberStyle, numberParts } from '../../util/numbers.ts';

// Figures as caption lines, printed by the same formatter as the card and the
// email. The figure is said once: a `display` that repeats its label
// (國產開源模型在全球前10中所佔席位 / 全球前10中佔據9席) gives only its figure
// (…所佔席位：9席); figures that share a label share one line.

const NUM = /(超過|超|逾|約|近|達|僅|不足)?([−-]?\d[\d,]*(?:\.\d+)?)(萬億|萬|億|兆|千)?(餘|多)?/gu;
const MAGNITUDE: Record<string, number> = { 萬億: 1e12, 兆: 1e12, 億: 1e8, 萬: 1e4, 千: 1e3 };

/** Longest run of characters label and display share (in code points). */
function sharedRun(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let best = 0;
  for (let i = 0; i < x.length; i++)
    for (let j = 0; j < y.length; j++) {
      let k = 0;
      while (x[i + k] !== undefined && x[i + k] === y[j + k]) k++;
      best = Math.max(best, k);
    }
  return best;
}

/** The figure part of a display that also says its label: 全球前10中佔據9席 → 9席. */
function figureOf(s: Stat, numbers: NumberStyle): string {
  const d = s.display!;
  for (const m of d.matchAll(NUM)) {
    const n = Number(m[2]!.replace(/,/g, '').replace('−', '-')) * (MAGNITUDE[m[3] ?? ''] ?? 1);
    if (Math.abs(n - s.value) > 1e-9 * Math.max(1, Math.abs(s.value))) continue;
    const rest = d.slice(m.index! + m[0].length);
    const unit = rest.startsWith(s.unit) ? s.unit : '';
    const after = rest.slice(unit.length).match(/^(左右|以上)/u)?.[0] ?? '';
    return `${m[0]}${unit}${after}`;
  }
  return formatFigure(s.value, s.unit, numbers);
}

/** How the figure prints: the writer's display, unless it repeats the label. */
export function figureText(s: Stat, numbers: NumberStyle = {}): string {
  if (!s.display) return formatFigure(s.value, s.unit, numbers);
  const digits = numberParts(s.value, '', numbers).num;
  const words = s.display.replaceAll(digits, '').replace(/[\d.,]/g, '');
  return sharedRun(s.label, words) >= 3 ? figureOf(s, numbers) : s.display;
}

/** The period every figure of a group shares (said once, after the heading), if there is one. */
export function sharedPeriod(stats: Stat[]): string | undefined {
  const p = stats[0]?.period;
  return stats.length > 1 && p && stats.every((s) => s.period === p) ? p : undefined;
}

function figure(s: Stat, numbers: NumberStyle, period = true): string {
  const c = s.change ? formatChange(s.change, numbers) : undefined;
  const by = c?.text.replace(/^[+−]/, '');
  const change = !c
    ? ''
    : `，${c.versus}${c.dir === 'flat' ? '持平' : `${c.dir === 'up' ? '增長' : '下降'}${by}`}`;
  return `${figureText(s, numbers)}${period && s.period ? `（${s.period}）` : ''}${change}`;
}

/**
 * One line per label: 普及率：36.5%（2025年上半年）; figures of one label share
 * it: 中美大模型綜合性能差距：17.5%（2023年）、0.3%（…）. A label the heading
 * already says is not said again; a period all of them share is left to the
 * headline (sharedPeriod).
 */
export function figureLines(stats: Stat[], numbers: NumberStyle = {}, heading = ''): string[] {
  const lines: { label: string; figures: string[] }[] = [];
  const own = !sharedPeriod(stats);
  for (const s of stats) {
    const same = lines.find((l) => l.label === s.label);
    if (same) same.figures.push(figure(s, numbers, own));
    else lines.push({ label: s.label, figures: [figure(s, numbers, own)] });
  }
  return lines.map((l) =>
    l.label === heading ? l.figures.join('、') : `${l.label}：${l.figures.join('、')}`,
  );
}
