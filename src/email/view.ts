// Edition → the data the templates see. All decisions (what is the lead, which
// quote, which figures get bars, which words in which language) live here, in
// TypeScript, so the templates stay presentational and a designer cannot break
// them by accident. One view per locale variant (src/email/locales/).

import type { Config } from '../config/schema.ts';
import type { Article, StatSet } from '../content/model.ts';
import { timeIn } from '../edition/dates.ts';
import type { Edition } from '../edition/model.ts';
import type { NumberStyle } from '../util/numbers.ts';
import { wrapQuote } from '../util/quotes.ts';
import { DEFAULT_NAME } from './config.ts';
import { absoluteUrl, readingMinutes, senderName, shortAlt, withUtm } from './fields.ts';
import {
  type BarView,
  bars,
  type ChangeView,
  change,
  charLength,
  type FigureView,
  figure,
} from './format.ts';
import { convertDeep } from './locale.ts';
import { type Messages, messagesFor } from './locales/index.ts';
import { textBar, unbreakable } from './text.ts';

export interface Thumb {
  src: string;
  width: number;
  height: number;
  alt: string;
}

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
  /** "約3分鐘" when email.readingTime is on, else null. */
  readingTime: string | null;
  /** The picture (the lead's is shown); height is known once resized at build. */
  image: { src: string; alt: string; credit: string | null; height: number | null } | null;
  /** A small picture beside a story (set by the thumbnail step at build). */
  thumb: Thumb | null;
  /** The digest's one expert quote, shown with the story it comes from. */
  quote: QuoteView | null;
  /** Position among the stories after the lead (1-based, in the order shown). */
  n: number;
  /** The url is a click link (/r/) that takes the per-reader part (merge field reader_ref). */
  ref: boolean;
}

/**
 * How article links are written (src/analytics/links.ts): through /r/<token>
 * click links, and whether each carries the reader's part; the open pixel's
 * URL (without ".gif"). Without it, links go straight to the article with UTM.
 */
export interface LinkPolicy {
  story: (a: Article) => string;
  perReader: boolean;
  pixel: string | null;
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
  /** Figures left out of the compact form (0 in full form). */
  more: number;
}

export interface QuoteView {
  text: string;
  by: string;
  role: string;
  /** —— 劉權，中國信息通信研究院…  in the locale's punctuation. */
  attribution: string;
  /** 專家解讀, or null when its story's kicker already says so. */
  label: string | null;
}

export interface SectionView {
  label: string;
  stories: StoryView[];
}

/** The catalog's strings as the templates print them (functions already applied). */
export interface TextView {
  viewOnline: string;
  greeting: [string, string];
  lead: string;
  topStories: string;
  readMore: string;
  quoteLabel: string;
  statsMore: string;
  why: [string, string];
  unsubscribe: string;
  preferences: string;
  preferencesLabel: string;
  website: string;
  viewOnlineLabel: string;
  unsubscribeLabel: string;
  websiteLabel: string;
  metaSep: string;
  colon: string;
  paren: [string, string];
  kickerOpen: string;
  kickerClose: string;
}

export interface DigestView {
  lang: string;
  locale: string;
  fontStack: string;
  t: TextView;
  brand: Config['brand'];
  edition: { id: string; name: string; title: string; date: string; dateText: string };
  preheader: string;
  lead: StoryView | null;
  /** The stories after the lead, in order, grouped by section. */
  sections: SectionView[];
  /** The same stories, flat, in the order shown. */
  stories: StoryView[];
  statSets: StatSetView[];
  statsMode: 'compact' | 'full';
  publicUrl: string;
  /** The open pixel's URL without ".gif" (analytics.openPixel), else null. */
  pixel: string | null;
  /** The pixel takes the per-reader part (merge field reader_ref). */
  pixelRef: boolean;
  /** What the variant's From name and List-Id phrase are. */
  fromName: string;
  listName: string;
  defaultName: string;
}

export function storyView(
  a: Article,
  edition: Edition,
  config: Config,
  m: Messages = messagesFor(edition.locale),
  links?: LinkPolicy,
): StoryView {
  return {
    id: a.id,
    title: a.title,
    kicker: a.kicker ?? null,
    dek: a.dek,
    // A click link adds the UTM parameters when it redirects (src/analytics/routes.ts).
    url: links ? links.story(a) : withUtm(a.url, config.email.utm, edition.id),
    byline: a.authors.join(m.authorSep),
    source: a.source,
    section: a.section,
    time: timeIn(a.publishedAt, edition.timezone),
    readingTime:
      config.email.readingTime && a.body.trim() ? unbreakable(m.minutes(readingMinutes(a.body))) : null,
    image: a.image
      ? {
          src: absoluteUrl(a.image.src, config.publicUrl),
          alt: shortAlt(a.image.alt, a.title),
          credit: a.image.credit ?? null,
          height: null,
        }
      : null,
    thumb: null,
    quote: null,
    n: 0,
    ref: Boolean(links?.perReader),
  };
}

export function statSetView(
  s: StatSet,
  numbers: NumberStyle = {},
  opts: { mark?: string; compact?: number; sep?: string } = {},
): StatSetView {
  const mark = opts.mark ?? '數讀';
  let groups = s.groups.map((g) => {
    const b = bars(g);
    return {
      heading: g.heading,
      stats: g.stats.map((st, i) => ({
        figure: figure(st, numbers),
        label: st.label,
        period: st.period ?? null,
        change: st.change ? change(st.change, numbers) : null,
        bar: b[i] ?? null,
        textBar: b[i] ? textBar(st.value === 0 ? 0 : b[i]!.pct) : null,
      })),
    };
  });
  const total = groups.reduce((n, g) => n + g.stats.length, 0);
  if (opts.compact) {
    // The headline figure of each group, in order, at most `compact` of them. A bar
    // relative to figures no longer shown would mislead: only shares of 100 % keep one.
    groups = groups.slice(0, opts.compact).map((g, gi) => ({
      ...g,
      stats: g.stats
        .slice(0, 1)
        .map((st) =>
          s.groups[gi]!.stats[0]!.unit.trim() === '%' ? st : { ...st, bar: null, textBar: null },
        ),
    }));
  }
  const shown = groups.reduce((n, g) => n + g.stats.length, 0);
  return {
    id: s.id,
    title: s.title,
    heading: s.title.startsWith('數讀')
      ? { mark, rest: s.title.slice(2) }
      : { mark, rest: `${opts.sep ?? '｜'}${s.title}` },
    credit: s.credit,
    groups,
    more: total - shown,
  };
}

/**
 * The quote in the locale's marks: 「…『…』…」 (Hong Kong), “…‘…’…” (mainland),
 * “…” for English (the writer's own outer pair replaced).
 */
function quoteMarks(text: string, m: Messages): string {
  if (m.quoteStyle !== 'en') return wrapQuote(text, m.quoteStyle);
  return wrapQuote(text, 'hans');
}

/** Stories after the lead grouped by section: configured order first, the rest in rank order. */
export function groupSections(stories: StoryView[], order: string[]): SectionView[] {
  const by = new Map<string, StoryView[]>();
  for (const s of stories) by.set(s.section, [...(by.get(s.section) ?? []), s]);
  const names = [...by.keys()];
  const rank = (n: string) => {
    const i = order.indexOf(n);
    return i >= 0 ? i : order.length + names.indexOf(n);
  };
  return names.sort((a, b) => rank(a) - rank(b)).map((label) => ({ label, stories: by.get(label)! }));
}

function textView(m: Messages, brand: string, title: string): TextView {
  const k = m.kicker('\u0000').split('\u0000');
  return {
    viewOnline: m.viewOnline,
    greeting: m.greeting,
    lead: m.lead,
    topStories: m.topStories,
    readMore: m.readMore,
    quoteLabel: m.quoteLabel,
    statsMore: m.statsMore,
    why: m.why(brand, title),
    unsubscribe: m.unsubscribe,
    preferences: m.preferences,
    preferencesLabel: m.textLink(m.preferences),
    website: m.website(brand),
    viewOnlineLabel: m.textLink(m.viewOnline),
    unsubscribeLabel: m.textLink(m.unsubscribe),
    websiteLabel: m.textLink(m.website(brand)),
    metaSep: m.metaSep,
    colon: m.colon,
    paren: m.paren,
    kickerOpen: k[0]!,
    kickerClose: k[1]!,
  };
}

/**
 * The view of the articles actually in this digest (the lead first; `articles`
 * may be a subset after drops) in one locale variant. A variant other than
 * the edition's own (zh-Hans of a Hong Kong edition) gets its content
 * converted here, before the templates, so its own catalog, font stack and
 * quotation marks apply.
 */
export function digestView(
  edition: Edition,
  articles: Article[],
  config: Config,
  locale: string = edition.locale,
  thumbs: ReadonlyMap<string, Thumb> = new Map(),
  links?: LinkPolicy,
): DigestView {
  const m = messagesFor(locale);
  const email = config.email;
  const [leadArticle, ...rest] = articles;
  const lead = leadArticle ? storyView(leadArticle, edition, config, m, links) : null;
  // The lead's picture as resized at build (served with the archive), when there is one.
  const hero = leadArticle && thumbs.get(leadArticle.id);
  if (lead?.image && hero) lead.image = { ...lead.image, src: hero.src, height: hero.height };
  const stories = rest.map((a) => ({
    ...storyView(a, edition, config, m, links),
    thumb: thumbs.get(a.id) ?? null,
  }));
  // One quote per digest, with the story it comes from (never a second copy of that story).
  const quoted = articles.find((a) => a.quote);
  const host = quoted && [lead, ...stories].find((s) => s?.id === quoted.id);
  if (quoted?.quote && host)
    host.quote = {
      text: quoted.quote.text,
      by: quoted.quote.by,
      role: quoted.quote.role,
      attribution: '',
      label: null,
    };

  let content = {
    brandText: { name: config.brand.name, address: config.brand.address },
    title: edition.title,
    lead,
    stories,
    statSets: edition.stats.map((st) =>
      statSetView(st, config.cards.numbers, {
        mark: '數讀',
        sep: m.metaSep,
        compact: email.stats === 'compact' ? email.statsMax : undefined,
      }),
    ),
  };
  // Content is written in Hong Kong Traditional; the Simplified variant converts it.
  if (m.locale === 'zh-Hans') content = convertDeep(content);
  for (const s of [content.lead, ...content.stories])
    if (s?.quote) {
      s.quote.text = quoteMarks(s.quote.text, m);
      s.quote.attribution = m.attribution(s.quote.by, s.quote.role);
      s.quote.label = s.kicker === m.quoteLabel ? null : m.quoteLabel;
    }
  for (const s of content.statSets) {
    // 數讀中國AI發展 → "In numbers · 中國AI發展": a word mark needs a separator, 數讀 does not.
    if (!/^[數数]讀|^数读/.test(m.statsMark) && !/^\p{P}|^\s/u.test(s.heading.rest))
      s.heading.rest = `${m.metaSep}${s.heading.rest}`;
    s.heading.mark = m.statsMark;
  }

  const sections = groupSections(
    content.stories,
    m.locale === 'zh-Hans' ? convertDeep(email.sections) : email.sections,
  );
  const shown = sections.flatMap((s) => s.stories);
  shown.forEach((s, i) => {
    s.n = i + 1;
  });
  const brand = { ...config.brand, ...content.brandText };
  return {
    lang: m.lang,
    locale: m.locale,
    fontStack: m.fontStack,
    t: textView(m, brand.name, content.title),
    brand,
    edition: {
      id: edition.id,
      name: edition.name,
      title: content.title,
      date: edition.date,
      dateText: m.date(edition.date),
    },
    preheader: '',
    lead: content.lead,
    sections,
    stories: shown,
    statSets: content.statSets,
    statsMode: email.stats,
    publicUrl: config.publicUrl,
    pixel: links?.pixel ?? null,
    pixelRef: Boolean(links?.pixel && links.perReader),
    // The configured sender's name (the edition's own variant sends exactly that),
    // converted for the Simplified variant; the catalog's when none is configured.
    fromName: (() => {
      const name = senderName(config.email.from);
      if (!name) return m.fromName(brand.name, content.title);
      return m.locale === 'zh-Hans' ? convertDeep(name) : name;
    })(),
    listName: m.listName(content.title),
    defaultName: email.defaultName === DEFAULT_NAME ? m.defaultName : email.defaultName,
  };
}

/** What the subject and preheader templates see: `second` only when both headlines fit. */
export function headlineData(view: DigestView, m: Messages, warnAt: number) {
  const limit = m.cjk ? warnAt : warnAt * 2;
  const lead = view.lead;
  const [next, ...others] = view.stories;
  const both = lead && next ? `${lead.title}${m.headlineSep}${next.title}` : '';
  const second = next && charLength(both) <= limit ? next : null;
  const more = (second ? others : view.stories).map((s) => s.title);
  if (!more.length && lead) more.push(lead.dek);
  return { ...view, second, more };
}

export { absoluteUrl, charLength, readingMinutes, senderName, shortAlt, withUtm };
