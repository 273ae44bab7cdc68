import type { Config } from '../config/schema.ts';
import type { Article, StatSet } from '../content/model.ts';
import { BroadsheetError } from '../errors/index.ts';
import { dayIn } from './dates.ts';
import type { Edition } from './model.ts';

// Pure: pick, rank and group content into an Edition. No I/O, no clock.

const ID = /^([a-z][a-z0-9_]*)-(\d{4}-\d{2}-\d{2})$/;

/** Higher priority first, then the newer story, then id for a stable order. */
export const rankArticles = (a: Article, b: Article) =>
  (b.priority ?? 0) - (a.priority ?? 0) ||
  Date.parse(b.publishedAt) - Date.parse(a.publishedAt) ||
  a.id.localeCompare(b.id);

export function parseEditionId(id: string, config: Config): { name: string; date: string } {
  const m = ID.exec(id);
  const names = Object.keys(config.editions);
  if (!m || !names.includes(m[1]!)) throw new BroadsheetError('EDITION_ID_INVALID', { id, names });
  return { name: m[1]!, date: m[2]! };
}

/** Days (newest first) that have articles or stat sets in the edition's time zone. */
export function contentDays(content: { articles: Article[]; stats: StatSet[] }, timeZone: string): string[] {
  const days = new Set<string>();
  for (const a of content.articles) days.add(dayIn(a.publishedAt, timeZone));
  for (const s of content.stats) days.add(s.date);
  return [...days].sort().reverse();
}

/**
 * The edition `id` (e.g. daily-2025-12-10), or, without one, the latest day
 * that has content for `name` (default: the first configured edition).
 */
export function selectEdition(
  content: { articles: Article[]; stats: StatSet[]; root?: string },
  config: Config,
  opts: { id?: string; name?: string } = {},
): Edition {
  const parsed = opts.id ? parseEditionId(opts.id, config) : undefined;
  const name = parsed?.name ?? opts.name ?? Object.keys(config.editions)[0]!;
  const ed = config.editions[name];
  if (!ed) throw new BroadsheetError('EDITION_ID_INVALID', { id: name, names: Object.keys(config.editions) });
  const timezone = ed.timezone ?? config.timezone;
  const days = contentDays(content, timezone);
  if (!days.length) throw new BroadsheetError('EDITION_EMPTY', { dir: content.root ?? 'content/' });
  const date = parsed?.date ?? days[0]!;
  if (!days.includes(date))
    throw new BroadsheetError('EDITION_NOT_FOUND', {
      id: `${name}-${date}`,
      available: days.map((d) => `${name}-${d}`),
    });

  const ofDay = content.articles.filter((a) => dayIn(a.publishedAt, timezone) === date).sort(rankArticles);
  return {
    id: `${name}-${date}`,
    name,
    date,
    timezone,
    locale: ed.locale ?? config.locale,
    title: ed.title,
    articles: ofDay.slice(0, ed.maxArticles),
    stats: content.stats.filter((s) => s.date === date).sort((a, b) => a.id.localeCompare(b.id)),
    leftOut: ofDay.slice(ed.maxArticles).map((a) => a.id),
  };
}
