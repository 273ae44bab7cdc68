import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import type { Article, Stat, StatSet } from '../content/model.ts';
import { chineseDate } from '../edition/dates.ts';
import type { Edition } from '../edition/model.ts';
import type { NumberStyle } from '../util/numbers.ts';
import { quoteStyle } from '../util/quotes.ts';
import { figureLines, sharedPeriod } from './captions/figures.ts';
import { topics } from './captions/topics.ts';
import type { CaptionInput } from './captions.ts';
import type { CardKind } from './config.ts';
import type { CardDataByKind } from './layout-api.ts';

// Edition → the items that get cards: each article, each article's quote, each
// 數讀 group (statset) and each figure (stat). Item ids name the output folder
// cards/<item-id>/, so they are stable slugs derived from content ids.

export interface CardItem<K extends CardKind = CardKind> {
  itemId: string;
  kind: K;
  data: CardDataByKind[K];
  caption: CaptionInput;
  /** Content file(s) it came from (for messages). */
  source: string;
}

const dateLabel = (day: string) => chineseDate(day, { weekday: false });

const PHOTO_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
};

/** Only a local image under the content folder; remote URLs are never fetched. */
export function localPhoto(
  article: Article,
  contentDir: string,
): { src: string; alt: string; credit?: string } | undefined {
  const img = article.image;
  if (!img || /^[a-z][a-z0-9+.-]*:/i.test(img.src)) return undefined;
  const type = PHOTO_TYPES[extname(img.src).toLowerCase()];
  if (!type) return undefined;
  const root = resolve(contentDir);
  const file = resolve(root, img.src);
  if (!existsSync(file)) return undefined;
  const real = realpathSync(file);
  if (!real.startsWith(realpathSync(root) + sep)) return undefined;
  return {
    src: `data:${type};base64,${readFileSync(real).toString('base64')}`,
    alt: img.alt,
    credit: img.credit,
  };
}

/** Figures that share a unit and measure the same kind of thing can share an axis. */
export function comparable(stats: Stat[]): boolean {
  if (stats.length < 2 || stats.length > 4) return false;
  const unit = stats[0]!.unit;
  if (!stats.every((s) => s.unit === unit && s.value > 0)) return false;
  // Percentages of different wholes do not compare; the same measure over time does.
  if (unit === '%') return new Set(stats.map((s) => s.label)).size === 1;
  return true;
}

/** The edition's archive page (served by `serve` under publicUrl), as the digest links it. */
export const archiveUrl = (publicUrl: string, editionId: string) =>
  new URL(`archive/${editionId}`, publicUrl).href;

/**
 * Where a stat set's captions link, and the story its topics come from: its own
 * `url`, else the story it names (`article:`) if that story is in the edition,
 * else the edition's archive page — never some other story.
 */
export function statSetLink(
  set: StatSet,
  edition: Edition,
  base: string,
): { url: string; article?: Article } {
  const article = set.article ? edition.articles.find((a) => a.id === set.article) : undefined;
  return { url: set.url ?? article?.url ?? archiveUrl(base, edition.id), article };
}

/** Series tag of every 數讀 caption. */
const STATS_SERIES = '數讀';

export function editionItems(
  edition: Edition,
  opts: {
    kinds: CardKind[];
    contentDir: string;
    brandUrl: string;
    /** Base of the archive page a 數讀 caption links to when its set names no url. */
    publicUrl?: string;
    numbers?: NumberStyle;
  },
): CardItem[] {
  const items: CardItem[] = [];
  const want = new Set(opts.kinds);
  const date = dateLabel(edition.date);
  const style = quoteStyle(edition.locale);
  for (const a of edition.articles) {
    const tags = topics(a.tags, a.section);
    const caption: CaptionInput = {
      kind: 'article',
      kicker: a.kicker,
      headline: a.title,
      body: a.dek,
      url: a.url,
      tags,
      style,
    };
    if (want.has('article')) {
      items.push({
        itemId: a.id,
        kind: 'article',
        source: a.sourcePath,
        caption,
        data: {
          kicker: a.kicker,
          series: a.series,
          title: a.title,
          dek: a.dek,
          section: a.section,
          byline: [a.source, a.authors.join('、')].filter(Boolean).join('　'),
          date,
          photo: localPhoto(a, opts.contentDir),
        },
      });
    }
    if (want.has('quote') && a.quote) {
      items.push({
        itemId: `${a.id}-quote`,
        kind: 'quote',
        source: a.sourcePath,
        caption: {
          kind: 'quote',
          kicker: a.kicker,
          headline: a.title,
          quote: { ...a.quote, style },
          url: a.url,
          tags,
          style,
        },
        data: {
          text: a.quote.text,
          marks: quoteStyle(edition.locale),
          by: a.quote.by,
          role: a.quote.role,
          title: a.title,
          section: a.section,
          date,
        },
      });
    }
  }
  for (const set of edition.stats as StatSet[]) {
    const { url: link, article } = statSetLink(set, edition, opts.publicUrl ?? opts.brandUrl);
    const tags = topics(set.tags ?? article?.tags ?? [], article?.section, STATS_SERIES);
    set.groups.forEach((g, gi) => {
      const groupId = `${set.id}-${gi + 1}`;
      const base = { setTitle: set.title, heading: g.heading, credit: set.credit, date: dateLabel(set.date) };
      const period = sharedPeriod(g.stats);
      if (want.has('statset')) {
        items.push({
          itemId: groupId,
          kind: 'statset',
          source: set.sourcePath,
          caption: {
            kind: 'statset',
            headline: `${set.title}｜${g.heading}${period ? `（${period}）` : ''}`,
            lines: figureLines(g.stats, opts.numbers, g.heading),
            url: link,
            tags,
            style,
          },
          data: { ...base, stats: g.stats.slice(0, 4), chart: comparable(g.stats) },
        });
      }
      if (want.has('stat')) {
        g.stats.forEach((s, si) => {
          items.push({
            itemId: `${groupId}-${si + 1}`,
            kind: 'stat',
            source: set.sourcePath,
            caption: {
              kind: 'stat',
              headline: `${set.title}｜${g.heading}`,
              lines: figureLines([s], opts.numbers, g.heading),
              url: link,
              tags,
              style,
            },
            data: { ...base, stat: s },
          });
        });
      }
    });
  }
  return items;
}
