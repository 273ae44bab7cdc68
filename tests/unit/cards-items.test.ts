import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CARD_KINDS } from '../../src/cards/config.ts';
import { comparable, editionItems, localPhoto } from '../../src/cards/items.ts';
import { article, edition, fixtureDir } from '../fixtures/cards/edition.ts';

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
