// Edition → the data the templates see. All decisions (what is the lead, which
// quote, which figures get bars) live here, in TypeScript, so the templates stay
// presentational and a designer cannot break them by accident.

import type { Config } from '../config/schema.ts';
import type { Article, StatSet } from '../content/model.ts';
import { chineseDate, timeIn } from '../edition/dates.ts';
import type { Edition } from '../edition/model.ts';
import type { NumberStyle } from '../util/numbers.ts';
import { wrapQuote } from '../util/quotes.ts';
import {
  type BarView,
  bars,
  type ChangeView,
  change,
  charLength,
  type FigureView,
  figure,
  textBar,
} from './format.ts';

export interface StoryView {
  id: string;
  title: string;
  kicker: string | null;
  dek: string;
  url: string;
  byline: string;
  source: string;
  section: string;
  time: string;
  image: { src: string; alt: string; credit: string | null } | null;
}

export interface StatView {
  figure: FigureView;
  label: string;
  period: string | null;
  change: ChangeView | null;
  bar: BarView | null;
  textBar: string | null;
}

export interface StatSetView {
  id: string;
  title: string;
  /** The title split for the heading: 「數讀」 in the accent colour, then the rest. */
  heading: { mark: string; rest: string };
  credit: string;
  groups: { heading: string; stats: StatView[] }[];
}

export interface QuoteView {
  text: string;
  by: string;
  role: string;
  title: string;
  url: string;
}

export interface DigestView {
  lang: string;
  brand: Config['brand'];
  edition: { id: string; name: string; title: string; date: string; dateText: string };
  preheader: string;
  lead: StoryView | null;
  stories: StoryView[];
  statSets: StatSetView[];
  quote: QuoteView | null;
  publicUrl: string;
}

/** Relative image paths (images/x.jpg) are served under publicUrl; email needs absolute URLs. */
export function absoluteUrl(src: string, base: string): string {
  try {
    return new URL(src, base).href;
  } catch {
    return src;
  }
}

export function storyView(a: Article, edition: Edition, config: Config): StoryView {
  return {
    id: a.id,
    title: a.title,
    kicker: a.kicker ?? null,
    dek: a.dek,
    url: a.url,
    byline: a.authors.join('、'),
    source: a.source,
    section: a.section,
    time: timeIn(a.publishedAt, edition.timezone),
    image: a.image
      ? { src: absoluteUrl(a.image.src, config.publicUrl), alt: a.image.alt, credit: a.image.credit ?? null }
      : null,
  };
}

export function statSetView(s: StatSet, numbers: NumberStyle = {}): StatSetView {
  return {
    id: s.id,
    title: s.title,
    heading: s.title.startsWith('數讀')
      ? { mark: '數讀', rest: s.title.slice(2) }
      : { mark: '數讀', rest: `｜${s.title}` },
    credit: s.credit,
    groups: s.groups.map((g) => {
      const b = bars(g);
      return {
        heading: g.heading,
        stats: g.stats.map((st, i) => ({
          figure: figure(st, numbers),
          label: st.label,
          period: st.period ?? null,
          change: st.change ? change(st.change, numbers) : null,
          bar: b[i] ?? null,
          textBar: b[i] ? textBar(b[i]!.pct) : null,
        })),
      };
    }),
  };
}

const truncate = (s: string, max: number) => {
  const cps = [...s];
  return cps.length <= max ? s : `${cps.slice(0, max - 1).join('')}…`;
};

/** 「…」 around a quote, quotes inside it as 『』 (the writer's own outer pair replaced). */
const quoteMarks = (t: string) => wrapQuote(t);

/** The articles actually in this digest (the lead first); `articles` may be a subset after drops. */
export function digestView(edition: Edition, articles: Article[], config: Config): DigestView {
  const [lead, ...rest] = articles;
  const stories = rest.map((a) => storyView(a, edition, config));
  const quoted = articles.find((a) => a.quote);
  const preheader = truncate(
    (rest.length ? rest.map((a) => a.title) : lead ? [lead.dek] : [edition.title]).join('｜'),
    90,
  );
  return {
    lang: edition.locale,
    brand: config.brand,
    edition: {
      id: edition.id,
      name: edition.name,
      title: edition.title,
      date: edition.date,
      dateText: chineseDate(edition.date),
    },
    preheader,
    lead: lead ? storyView(lead, edition, config) : null,
    stories,
    statSets: edition.stats.map((st) => statSetView(st, config.cards.numbers)),
    quote: quoted?.quote
      ? { ...quoted.quote, text: quoteMarks(quoted.quote.text), title: quoted.title, url: quoted.url }
      : null,
    publicUrl: config.publicUrl,
  };
}

export { charLength };
