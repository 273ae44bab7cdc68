// The contract between the renderer and the layout files in templates/cards/.
// A layout is a pure function (data, kit) → element tree (satori's plain-object
// form: { type: 'div', props: { style, children } }); it never touches files.
import type { Stat } from '../content/model.ts';
import type { ChangeParts, NumberParts } from '../util/numbers.ts';
import type { QuoteStyle } from '../util/quotes.ts';
import type { CardFormat, CardKind } from './config.ts';
import type { FitOptions, Fitted } from './typeset.ts';

export interface CardNode {
  type: string;
  props: { style?: Record<string, unknown>; children?: CardChild | CardChild[]; [k: string]: unknown };
}
export type CardChild = CardNode | string | null | undefined | false;

export interface FormatSpec {
  name: CardFormat;
  width: number;
  height: number;
  /** wide (og, x), banner (wechat), square, tall (portrait, story). */
  shape: 'wide' | 'banner' | 'square' | 'tall';
  /** Type scale relative to og 1200×630. */
  scale: number;
}

export interface Theme {
  colors: Record<
    'primary' | 'ink' | 'muted' | 'paper' | 'accent' | 'rule' | 'up' | 'down' | 'tint' | 'onPrimary',
    string
  >;
  /** Base sizes in px at og; layouts multiply by format.scale. */
  type: Record<string, number>;
  logo: { text: string /** data: URI of an image logo, when the theme names one. */; image?: string };
  brand: { name: string; url: string; host: string };
  /**
   * Per format, the bands at the top and bottom that a platform covers with its
   * own UI (story: Instagram/Facebook ≈250 px top, ≈340 px bottom). Layouts keep
   * them to background only. px at the format's own size.
   */
  safeZones: Partial<Record<CardFormat, { top: number; bottom: number }>>;
}

export interface TextOptions extends Omit<FitOptions, 'weight'> {
  weight?: 400 | 700;
  color?: string;
  lineHeight?: number;
  style?: Record<string, unknown>;
}

export interface LayoutKit {
  format: FormatSpec;
  theme: Theme;
  /** px at this format: round(n × scale). */
  px(n: number): number;
  el(type: string, style: Record<string, unknown>, ...children: CardChild[]): CardNode;
  div(style: Record<string, unknown>, ...children: CardChild[]): CardNode;
  /** A typeset block: sized down within [min,max], broken by the CJK rules, clamped with an ellipsis. */
  text(text: string, o: TextOptions): CardNode;
  /** The same block with its measured height (lines × size × lineHeight), for layouts that share a column's height. */
  block(text: string, o: TextOptions): { node: CardNode; height: number; size: number; lines: string[] };
  /**
   * 0 normally; 1, 2, 3 when an earlier layout of this card put text outside the
   * safe area or on other text: every block then sizes down and loses a line per step.
   */
  squeeze: number;
  fit(text: string, o: FitOptions): Fitted;
  measure(text: string, size: number, weight?: number): number;
  /** A number as the paper prints it (src/util/numbers.ts): 5.15, 5300, 0.000123, 1.2萬. */
  number(n: number): string;
  /** A value and its unit, magnitude folded into the unit: 123456789012 元 → { num: '1234.57', unit: '億元' }. */
  figure(value: number, unit: string): NumberParts;
  /** A change: arrow ('' when zero), signed text with U+2212, versus with 較 once; colour by `dir` from the theme. */
  change(c: { value: number; unit: string; versus: string }): ChangeParts;
  /**
   * A quotation in the paper's marks (src/util/quotes.ts): 「…」 with 『…』 inside
   * for 'hant', “…” for 'hans'. In the kit so a layout never imports from src/ at
   * run time: templates/ works wherever it is copied.
   */
  quote(text: string, style?: QuoteStyle): string;
}

export interface ArticleCardData {
  kicker?: string;
  title: string;
  dek: string;
  section: string;
  byline: string;
  date: string;
  series?: string;
  photo?: { src: string; alt: string; credit?: string };
}
export interface StatCardData {
  setTitle: string;
  heading: string;
  stat: Stat;
  credit: string;
  date: string;
}
export interface StatSetCardData {
  setTitle: string;
  heading: string;
  stats: Stat[];
  /** All figures share a unit and can be compared on one axis. */
  chart: boolean;
  credit: string;
  date: string;
}
export interface QuoteCardData {
  text: string;
  /** Quotation marks for the edition's locale: 「『』」 ('hant', default) or “‘’” ('hans'). */
  marks?: QuoteStyle;
  by: string;
  role: string;
  title: string;
  section: string;
  date: string;
  /** The speaker's portrait: a round crop (PNG data URI, transparent outside the circle). */
  portrait?: { src: string; alt: string; credit?: string };
}
export interface CardDataByKind {
  article: ArticleCardData;
  stat: StatCardData;
  statset: StatSetCardData;
  quote: QuoteCardData;
}

export type Layout<K extends CardKind> = (data: CardDataByKind[K], kit: LayoutKit) => CardNode;
