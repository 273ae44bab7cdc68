import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import type { Article, StatSet } from '../../src/content/model.ts';
import { chineseDate, dayIn } from '../../src/edition/dates.ts';
import { selectEdition } from '../../src/edition/select.ts';

const config = configSchema.parse({ editions: { daily: { maxArticles: 2 } } });
const art = (id: string, publishedAt: string, priority?: number): Article => ({
  id,
  title: id,
  dek: id,
  section: '要聞',
  tags: [],
  authors: [],
  source: '大公報',
  publishedAt,
  url: `https://news.example.com/${id}`,
  priority,
  body: '',
  sourcePath: `articles/${id}.md`,
});
const set = (id: string, date: string): StatSet => ({
  id,
  title: id,
  date,
  credit: 'c',
  groups: [],
  sourcePath: `stats/${id}.yaml`,
});

const content = {
  articles: [
    art('a', '2025-12-10T07:00:00+08:00', 10),
    art('b', '2025-12-10T08:00:00+08:00', 90),
    art('c', '2025-12-10T09:00:00+08:00', 10),
    // 23:30 UTC on the 9th is 07:30 on the 10th in Hong Kong.
    art('d', '2025-12-09T23:30:00Z'),
    art('e', '2025-12-09T12:00:00+08:00'),
  ],
  stats: [set('s1', '2025-12-10'), set('s0', '2025-12-09')],
};

describe('selectEdition', () => {
  it('picks the latest day with content, ranked by priority then recency, capped', () => {
    const e = selectEdition(content, config);
    expect(e.id).toBe('daily-2025-12-10');
    expect(e.articles.map((a) => a.id)).toEqual(['b', 'c']);
    expect(e.leftOut).toEqual(['a', 'd']);
    expect(e.stats.map((s) => s.id)).toEqual(['s1']);
    expect(e.timezone).toBe('Asia/Hong_Kong');
  });

  it('assigns days in the edition time zone', () => {
    const london = configSchema.parse({ timezone: 'Europe/London', editions: { daily: { maxArticles: 9 } } });
    // 07:00 in Hong Kong on the 10th is 23:00 on the 9th in London.
    expect(selectEdition(content, london, { id: 'daily-2025-12-09' }).articles.map((a) => a.id)).toEqual([
      'a',
      'd',
      'e',
    ]);
  });

  it('picks a day by id', () => {
    const e = selectEdition(content, config, { id: 'daily-2025-12-09' });
    expect(e.articles.map((a) => a.id)).toEqual(['e']);
    expect(e.stats.map((s) => s.id)).toEqual(['s0']);
  });

  it('rejects unknown names and days without content', () => {
    expect(() => selectEdition(content, config, { id: 'weekly-2025-12-10' })).toThrow(
      expect.objectContaining({ code: 'EDITION_ID_INVALID' }),
    );
    expect(() => selectEdition(content, config, { id: 'daily-2025-12-11' })).toThrow(
      expect.objectContaining({ code: 'EDITION_NOT_FOUND' }),
    );
    expect(() => selectEdition({ articles: [], stats: [] }, config)).toThrow(
      expect.objectContaining({ code: 'EDITION_EMPTY' }),
    );
  });
});

describe('dates', () => {
  it('formats the masthead date in Chinese', () => {
    expect(chineseDate('2025-12-10')).toBe('2025年12月10日 星期三');
    expect(chineseDate('2025-12-14')).toBe('2025年12月14日 星期日');
  });
  it('finds the day in a zone', () => {
    expect(dayIn('2025-12-09T16:30:00Z', 'Asia/Hong_Kong')).toBe('2025-12-10');
    expect(dayIn('2025-12-09T16:30:00Z', 'America/New_York')).toBe('2025-12-09');
  });
});
