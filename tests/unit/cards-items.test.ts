import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { figureLines, figureText, sharedPeriod } from '../../src/cards/captions/figures.ts';
import { CARD_KINDS, type CardKind } from '../../src/cards/config.ts';
import { comparable, editionItems, localPhoto } from '../../src/cards/items.ts';
import type { Stat } from '../../src/content/model.ts';
import { article, edition, fixtureDir, quoteArticle, statSet } from '../fixtures/cards/edition.ts';

const contentDir = join(fixtureDir, 'content');

describe('edition → card items', () => {
  it('one item per article, quote, 數讀 group and figure, with stable ids', () => {
    const items = editionItems(edition(), {
      kinds: [...CARD_KINDS],
      contentDir,
      brandUrl: 'https://news.example.com/',
    });
    expect(items.map((i) => `${i.kind}:${i.itemId}`)).toEqual([
      'article:china-ai-patents-lead',
      'article:china-ai-rule-definer',
      'quote:china-ai-rule-definer-quote',
      'statset:china-ai-2025-1',
      'stat:china-ai-2025-1-1',
      'stat:china-ai-2025-1-2',
      'statset:china-ai-2025-2',
      'stat:china-ai-2025-2-1',
      'stat:china-ai-2025-2-2',
      'stat:china-ai-2025-2-3',
    ]);
    const only = editionItems(edition(), {
      kinds: ['quote'],
      contentDir,
      brandUrl: 'https://news.example.com/',
    });
    expect(only.map((i) => i.kind)).toEqual(['quote']);
  });

  it('draws a bar chart only for figures that share a unit and measure the same thing', () => {
    const s = (value: number, unit: string, label = 'x') => ({ value, unit, label });
    expect(comparable([s(30000, '家'), s(1200, '家'), s(230, '家')])).toBe(true);
    expect(comparable([s(5.15, '億人'), s(36.5, '%')])).toBe(false);
    expect(comparable([s(80, '%', '覆蓋'), s(28.4, '%', '縮短')])).toBe(false);
    expect(comparable([s(17.5, '%', '差距'), s(0.3, '%', '差距')])).toBe(true);
    expect(comparable([s(1, '家')])).toBe(false);
  });

  it('uses only local photos inside the content folder; remote URLs are never fetched', () => {
    const local = localPhoto(article({ image: { src: 'images/harbour.jpg', alt: '維港' } }), contentDir);
    expect(local?.src.startsWith('data:image/jpeg;base64,')).toBe(true);
    expect(
      localPhoto(article({ image: { src: 'https://news.example.com/a.jpg', alt: 'a' } }), contentDir),
    ).toBeUndefined();
    expect(localPhoto(article({ image: { src: '../edition.ts', alt: 'a' } }), contentDir)).toBeUndefined();
    // A real PNG, but outside the content folder.
    expect(
      localPhoto(article({ image: { src: '../article-og.png', alt: 'a' } }), contentDir),
    ).toBeUndefined();
    expect(
      localPhoto(article({ image: { src: '../../../../package.json', alt: 'a' } }), contentDir),
    ).toBeUndefined();
    expect(
      localPhoto(article({ image: { src: 'images/missing.png', alt: 'a' } }), contentDir),
    ).toBeUndefined();
  });
});

describe('where 數讀 captions link, and their topics (issue 12)', () => {
  const opts = {
    kinds: ['statset', 'stat'] as CardKind[],
    contentDir,
    brandUrl: 'https://news.example.com/',
    publicUrl: 'https://news.example.com/broadsheet/',
  };
  const links = (ed: ReturnType<typeof edition>) => new Set(editionItems(ed, opts).map((i) => i.caption.url));
  const lead = article().url;

  it('no url or article: the edition archive, never the lead story', () => {
    expect([...links(edition())]).toEqual(['https://news.example.com/broadsheet/archive/daily-2025-12-10']);
    expect(links(edition()).has(lead)).toBe(false);
  });

  it('its own url, or the story it names', () => {
    const own = { ...statSet(), url: 'https://news.example.com/data/ai-2025' };
    expect([...links(edition({ stats: [own] }))]).toEqual(['https://news.example.com/data/ai-2025']);
    const named = { ...statSet(), article: 'china-ai-rule-definer' };
    expect([...links(edition({ stats: [named] }))]).toEqual([quoteArticle().url]);
  });

  it('a named story that is not in this edition falls back to the archive', () => {
    const gone = { ...statSet(), article: 'not-in-this-edition' };
    expect([...links(edition({ stats: [gone] }))]).toEqual([
      'https://news.example.com/broadsheet/archive/daily-2025-12-10',
    ]);
  });

  it('topics: the set’s tags, else the named story’s tags and section, with the 數讀 series tag', () => {
    const [own] = editionItems(edition({ stats: [{ ...statSet(), tags: ['生成式AI'] }] }), opts);
    expect(own!.caption.tags).toEqual(['生成式AI', '數讀']);
    const [named] = editionItems(
      edition({ stats: [{ ...statSet(), article: 'china-ai-patents-lead' }] }),
      opts,
    );
    expect(named!.caption.tags).toEqual(['人工智能', '中國經濟', '專利', '數讀', '大模型', '中國']);
    const [bare] = editionItems(edition(), opts);
    expect(bare!.caption.tags).toEqual(['數讀']);
  });

  it('article and quote captions link to their own story and carry its tags, then its section', () => {
    const items = editionItems(edition(), { ...opts, kinds: ['article', 'quote'] });
    for (const i of items)
      expect(i.caption.url).toBe(i.itemId.startsWith('china-ai-rule-definer') ? quoteArticle().url : lead);
    expect(items[0]!.caption.tags.at(-1)).toBe('中國');
    // A section that names a page of the paper (要聞) is no topic.
    const [top] = editionItems(edition({ articles: [article({ section: '要聞' })] }), {
      ...opts,
      kinds: ['article'],
    });
    expect(top!.caption.tags).not.toContain('要聞');
  });
});

describe('figures in captions are said once', () => {
  const s = (over: Partial<Stat>): Stat => ({ value: 9, unit: '席', label: 'x', ...over });

  it('a display that repeats its label gives only its figure', () => {
    expect(
      figureLines([s({ label: '國產開源模型在全球前10中所佔席位', display: '全球前10中佔據9席' })]),
    ).toEqual(['國產開源模型在全球前10中所佔席位：9席']);
    // Qualifiers stay: they are part of the figure.
    expect(
      figureText(
        s({ value: 30000, unit: '家', label: '基礎級智能工廠佔據', display: '基礎級智能工廠3萬餘家' }),
      ),
    ).toBe('3萬餘家');
    expect(figureText(s({ value: 5300, unit: '家', label: '人工智能企業數量', display: '超5300家' }))).toBe(
      '超5300家',
    );
    expect(
      figureText(s({ value: 140, unit: '倍', label: '相當於國家圖書館數字資源總量', display: '140倍左右' })),
    ).toBe('140倍左右');
  });

  it('figures of one label share a line; a label the heading says is not repeated', () => {
    const lines = figureLines([
      s({ value: 17.5, unit: '%', label: '中美大模型綜合性能差距', period: '2023年' }),
      s({ value: 0.3, unit: '%', label: '中美大模型綜合性能差距', period: '2025年' }),
    ]);
    expect(lines).toEqual(['中美大模型綜合性能差距：17.5%（2023年）、0.3%（2025年）']);
    expect(figureLines([s({ value: 36.5, unit: '%', label: '普及率' })], {}, '普及率')).toEqual(['36.5%']);
  });

  it('a change reads as words, 較 once; a period all figures share is said once, by the heading', () => {
    const stats = [
      s({
        value: 5.15,
        unit: '億人',
        label: '用戶規模',
        period: '2025年上半年',
        change: { value: 2.66, unit: '億人', versus: '2024年12月' },
      }),
      s({ value: 36.5, unit: '%', label: '普及率', period: '2025年上半年' }),
    ];
    expect(sharedPeriod(stats)).toBe('2025年上半年');
    expect(figureLines(stats)).toEqual(['用戶規模：5.15億人，較2024年12月增長2.66億人', '普及率：36.5%']);
    const [set] = editionItems(edition(), {
      kinds: ['statset'],
      contentDir,
      brandUrl: 'https://news.example.com/',
    });
    expect(set!.caption.headline).toBe('數讀中國AI發展｜用戶規模大（2025年上半年）');
    expect(
      figureLines([
        s({ value: -1.2, unit: '%', label: '失業率', change: { value: -0.3, unit: '%', versus: '同比' } }),
      ]),
    ).toEqual(['失業率：−1.2%，同比下降0.3%']);
  });
});
