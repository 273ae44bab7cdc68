// One way to print a figure, for cards, captions, the email and its text part:
// - small values keep their significant digits (0.000123%, never 0%);
// - values ≥ 1 keep at most two decimals, no grouping below 萬 (5300家, 38.58%);
// - Chinese locales write large values in 萬 / 億 / 萬億 (or 兆, configurable),
//   composing with a magnitude already in the unit (12000 萬人 → 1.2億人);
// - a negative sign is U+2212 (−), not a hyphen;
// - a change reads ▲ +2.66億人 / ▼ −1.2% / 0% (no arrow: neutral), and its
//   comparison gets 較 once (較2024年12月, never 較較前一年).

import { numberFormat } from './intl.ts';

export interface NumberStyle {
  /** 'cjk' (default): 萬/億 for values ≥ 10,000; 'plain': digits only. */
  large?: 'cjk' | 'plain';
  /** The word for 10¹²: 萬億 (Hong Kong and mainland papers; default) or 兆 (Taiwan). */
  trillion?: '萬億' | '兆';
  /** Thousands separators for plain large values (1,234,567); default false. */
  grouping?: boolean;
}

export const MINUS = '\u2212';

const MAGNITUDE_EXP: Record<string, number> = { 萬: 4, 万: 4, 億: 8, 亿: 8, 兆: 12, 萬億: 12, 万亿: 12 };
const UNIT_PREFIX = /^(萬億|万亿|萬|万|億|亿|兆)/u;

function digits(abs: number, grouping: boolean): string {
  if (abs === 0) return '0';
  // Below a billionth, zeros would run off any card: 1.23E−10 keeps the digits that matter.
  if (abs < 1e-9) {
    const [m, e] = abs.toExponential(2).split('e');
    return `${String(Number(m))}E${MINUS}${e!.replace('-', '')}`;
  }
  // Below 1: three significant digits (0.000123, 0.0456, 0.3); else at most two decimals.
  return numberFormat(
    'en-US',
    abs < 1
      ? { maximumSignificantDigits: 3, useGrouping: false }
      : { maximumFractionDigits: 2, useGrouping: grouping },
  ).format(abs);
}

function label(exp: number, style: NumberStyle): string {
  if (exp === 4) return '萬';
  if (exp === 8) return '億';
  if (exp === 12) return style.trillion ?? '萬億';
  if (exp === 16) return `萬${style.trillion === '兆' ? '兆' : '億億'}`;
  return '';
}

export interface NumberParts {
  /** Sign and digits: −1.2, 1234.57, 0.000123. */
  num: string;
  /** The unit with any magnitude folded in: 億元, 萬人, %. */
  unit: string;
}

/** A value and its unit as printed: 123456789012 元 → 1234.57 + 億元. */
export function numberParts(value: number, unit = '', style: NumberStyle = {}): NumberParts {
  if (!Number.isFinite(value)) return { num: String(value), unit };
  const sign = value < 0 ? MINUS : '';
  let abs = Math.abs(value);
  let rest = unit;
  let exp = 0;
  const cjk = (style.large ?? 'cjk') === 'cjk';
  if (cjk) {
    const pre = UNIT_PREFIX.exec(unit)?.[1];
    // A magnitude already in the unit composes with ours: 12000 萬人 → 1.2 億人, 30000 億元 → 3 萬億元.
    if (pre && abs >= 1e4) {
      exp = MAGNITUDE_EXP[pre]!;
      rest = unit.slice(pre.length);
    }
    while (abs >= 1e4 && exp < 12) {
      abs /= 1e4;
      exp += 4;
    }
  }
  let num = digits(abs, style.grouping ?? false);
  // Rounding can carry into the next magnitude (9999.996 → 10000): 1萬, not 10000.
  if (cjk && exp < 12 && num === '10000') {
    num = '1';
    exp += 4;
  }
  return { num: sign + num, unit: label(exp, style) + rest };
}

/** A value with its unit: 5.15億人, −3.2%, 0.000123%, 1234.57億元. */
export function formatFigure(value: number, unit = '', style: NumberStyle = {}): string {
  const p = numberParts(value, unit, style);
  return p.num + p.unit;
}

/** Just the number (no unit): 5.15, 5300, 1.2萬, −0.5. */
export const formatNumber = (value: number, style: NumberStyle = {}): string =>
  formatFigure(value, '', style);

export interface ChangeParts {
  dir: 'up' | 'down' | 'flat';
  /** ▲ / ▼, or '' for no change (neutral: no arrow, no colour). */
  arrow: string;
  /** Signed figure: +2.66億人, −1.2%, 0%. */
  text: string;
  /** The comparison with 較 exactly once (or the writer's own 比/同比/按年…). */
  versus: string;
}

const COMPARATIVE = /^(較|比|同比|環比|按年|按月|與|vs\.?\s)/iu;

/** 較 once: 較2024年12月, 同比, 較前一年 (not 較較前一年). */
export function withComparison(versus: string): string {
  const v = versus.trim();
  if (!v) return '';
  return COMPARATIVE.test(v) ? v : `較${v}`;
}

export function formatChange(
  c: { value: number; unit: string; versus: string },
  style: NumberStyle = {},
): ChangeParts {
  const dir = c.value > 0 ? 'up' : c.value < 0 ? 'down' : 'flat';
  const p = numberParts(Math.abs(c.value), c.unit, style);
  const sign = dir === 'up' ? '+' : dir === 'down' ? MINUS : '';
  return {
    dir,
    arrow: dir === 'up' ? '▲' : dir === 'down' ? '▼' : '',
    text: `${sign}${p.num}${p.unit}`,
    versus: withComparison(c.versus),
  };
}
