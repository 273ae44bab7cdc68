// Pure formatting for the digest: Chinese dates, 數讀 figures, changes and bars.
// Numbers are printed from the data (never re-parsed from HTML), so the plain
// text part carries exactly the figures the paper printed.
import type { Stat, StatGroup } from '../content/model.ts';
import {
  formatChange,
  formatFigure as formatFigureText,
  type NumberStyle,
  numberParts,
} from '../util/numbers.ts';

/** Figures as the paper prints them: the one formatter cards and captions use too (src/util/numbers.ts). */
export function formatNumber(n: number): string {
  return formatFigureText(n, '');
}

export interface FigureView {
  /** Text before the number (超, 第), small. */
  pre: string;
  /** The number itself, big. */
  num: string;
  /** Unit and anything after the number (億人, 餘家, 位), small. */
  unit: string;
  /** The whole figure as one string for the text part and alt text. */
  text: string;
}

/**
 * How a figure is shown. `display` (超5300家, 400餘家, 第15位) is how the paper
 * prints it and wins; it is split around its first number so the number can be
 * big and the rest small. Without display: value + unit.
 */
export function figure(
  stat: Pick<Stat, 'value' | 'unit' | 'display'>,
  numbers: NumberStyle = {},
): FigureView {
  if (stat.display) {
    // Make the number that IS the value big (全球前10中佔據9席 → 9), else the first number.
    const nums = [...stat.display.matchAll(/\d[\d,]*(?:\.\d+)?/gu)];
    const m = nums.find((n) => Number(n[0].replace(/,/g, '')) === stat.value) ?? nums[0];
    if (m)
      return {
        pre: stat.display.slice(0, m.index),
        num: m[0],
        unit: stat.display.slice(m.index! + m[0].length),
        text: stat.display,
      };
    return { pre: '', num: stat.display, unit: '', text: stat.display };
  }
  const { num, unit } = numberParts(stat.value, stat.unit, numbers);
  return { pre: '', num, unit, text: `${num}${unit}` };
}

export interface ChangeView {
  dir: 'up' | 'down' | 'flat';
  /** ▲ / ▼, or '' for no change. */
  arrow: string;
  /** Signed figure: +2.66億人, −1.2% (U+2212), 0%. */
  text: string;
  /** The comparison with 較 exactly once. */
  versus: string;
}

export function change(c: NonNullable<Stat['change']>, numbers: NumberStyle = {}): ChangeView {
  return formatChange(c, numbers);
}

/** Shown as a table-cell bar; pct 1–100 (never 0 so a tiny share stays visible). */
export interface BarView {
  pct: number;
  rest: number;
}

const RANKISH = /^(第|排名|No\.?)/iu;

/**
 * Bars only where the figures compare honestly:
 *  - a percentage between 0 and 100 is a share of a whole: bar = value / 100;
 *  - a group whose stats all share one other unit (2+ stats, non-negative, not
 *    ranks): each bar is value / the largest value in the group.
 * Everything else (mixed units, ranks, negatives) gets no bar.
 */
export function bars(group: Pick<StatGroup, 'stats'>): (BarView | null)[] {
  const stats = group.stats;
  const isShare = (s: Stat) =>
    s.unit.trim() === '%' && s.value >= 0 && s.value <= 100 && !RANKISH.test(s.display ?? '');
  const unit = stats[0]?.unit;
  const comparable =
    unit?.trim() !== '%' &&
    stats.length >= 2 &&
    stats.every((s) => s.unit === unit && s.value >= 0 && !RANKISH.test(s.display ?? '')) &&
    stats.some((s) => s.value > 0);
  if (comparable) {
    const max = Math.max(...stats.map((s) => s.value));
    return stats.map((s) => toBar((s.value / max) * 100));
  }
  return stats.map((s) => (isShare(s) ? toBar(s.value) : null));
}

function toBar(pct: number): BarView {
  const p = Math.min(100, Math.max(1, Math.round(pct)));
  return { pct: p, rest: 100 - p };
}

/** A ten-cell bar for the text part: ███████░░░. */
export const textBar = (pct: number) => {
  const full = Math.round(pct / 10);
  return '█'.repeat(full) + '░'.repeat(10 - full);
};

/** Characters as a reader counts them (code points, so 𨋢 is one). */
export const charLength = (s: string) => [...s].length;

export const hasCJK = (s: string) =>
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(s);
