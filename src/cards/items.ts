import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import type { Article, Stat, StatSet } from '../content/model.ts';
import { chineseDate } from '../edition/dates.ts';
import type { Edition } from '../edition/model.ts';
import { formatChange, formatFigure, type NumberStyle } from '../util/numbers.ts';
import { quoteStyle, wrapQuote } from '../util/quotes.ts';
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

/** A figure as a caption line, printed by the same formatter as the card and the email. */
const statLine = (s: Stat, numbers: NumberStyle = {}) => {
  const c = s.change ? formatChange(s.change, numbers) : undefined;
  const change = c ? `，${c.versus}${c.dir === 'flat' ? '持平' : c.text}` : '';
  return `${s.label}：${s.display ?? formatFigure(s.value, s.unit, numbers)}${s.period ? `（${s.period}）` : ''}${change}`;
};

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
  for (const a of edition.articles) {
    const caption = {
      headline: a.kicker ? `【${a.kicker}】${a.title}` : a.title,
      body: a.dek,
      url: a.url,
      tags: a.tags,
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
          headline: `${wrapQuote(a.quote.text, quoteStyle(edition.locale))}——${a.quote.by}`,
          body: a.quote.role,
          url: a.url,
          tags: a.tags,
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
  const link = edition.articles[0]?.url ?? opts.brandUrl;
  for (const set of edition.stats as StatSet[]) {
    set.groups.forEach((g, gi) => {
      const groupId = `${set.id}-${gi + 1}`;
      const base = { setTitle: set.title, heading: g.heading, credit: set.credit, date: dateLabel(set.date) };
      if (want.has('statset')) {
        items.push({
          itemId: groupId,
          kind: 'statset',
          source: set.sourcePath,
          caption: {
            headline: `${set.title}｜${g.heading}`,
            body: g.stats.map((s) => statLine(s, opts.numbers)).join('\n'),
            url: link,
            tags: ['數讀'],
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
              headline: `${set.title}｜${g.heading}`,
              body: statLine(s, opts.numbers),
              url: link,
              tags: ['數讀'],
            },
            data: { ...base, stat: s },
          });
        });
      }
    });
  }
  return items;
}
