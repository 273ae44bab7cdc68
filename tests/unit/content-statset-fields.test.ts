import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadContent } from '../../src/content/load.ts';
import { highlightIndex } from '../../src/content/model.ts';

// The stat-set fields issue 12 adds: url / article (where captions link), tags
// (caption topics) and highlight (the figure a chart highlights), validated by
// the real loader on real files.

async function load(
  extra: string,
  stats = '      - { value: 1, unit: 家, label: 甲 }\n      - { value: 2, unit: 家, label: 乙 }\n',
  group = '',
) {
  const root = mkdtempSync(join(tmpdir(), 'bs-statset-'));
  mkdirSync(join(root, 'stats'));
  writeFileSync(
    join(root, 'stats/set.yaml'),
    `id: set\ntitle: 數讀\ndate: "2025-12-10"\ncredit: 大公報\n${extra}groups:\n  - heading: 規模\n${group}    stats:\n${stats}`,
  );
  return loadContent(root);
}

describe('stat set: url, article, tags, highlight', () => {
  it('accepts url, or article, and tags', async () => {
    const a = await load('url: https://news.example.com/data/ai\ntags: [人工智能, 數據]\n');
    expect(a.problems).toEqual([]);
    expect(a.stats[0]).toMatchObject({ url: 'https://news.example.com/data/ai', tags: ['人工智能', '數據'] });
    const b = await load('article: china-ai-patents-lead\n');
    expect(b.problems).toEqual([]);
    expect(b.stats[0]!.article).toBe('china-ai-patents-lead');
  });

  it.each([
    ['url and article together', 'url: https://news.example.com/a\narticle: b\n', 'article'],
    ['a url that is not http(s)', 'url: javascript:alert(1)\n', 'url'],
    ['an article id that is no slug', 'article: "兩個 字"\n', 'article'],
  ])('rejects %s (CONTENT_FIELD at %s)', async (_what, extra, field) => {
    const r = await load(extra);
    expect(r.stats).toEqual([]);
    expect(r.problems.map((p) => [p.code, p.field])).toContainEqual(['CONTENT_FIELD', field]);
  });

  it('highlight: a stat marked true or the group index (from 1) — read back by highlightIndex', async () => {
    const a = await load(
      '',
      '      - { value: 1, unit: 家, label: 甲 }\n      - { value: 2, unit: 家, label: 乙, highlight: true }\n',
    );
    expect(a.problems).toEqual([]);
    expect(highlightIndex(a.stats[0]!.groups[0]!)).toBe(1);
    const b = await load('', undefined, '    highlight: 1\n');
    expect(b.problems).toEqual([]);
    expect(highlightIndex(b.stats[0]!.groups[0]!)).toBe(0);
    const none = await load('');
    expect(highlightIndex(none.stats[0]!.groups[0]!)).toBeUndefined();
  });

  it.each([
    [
      'two figures marked',
      '',
      '      - { value: 1, unit: 家, label: 甲, highlight: true }\n      - { value: 2, unit: 家, label: 乙, highlight: true }\n',
      'groups[0].stats[1].highlight',
    ],
    ['an index past the last figure', '    highlight: 3\n', undefined, 'groups[0].highlight'],
    ['an index of 0', '    highlight: 0\n', undefined, 'groups[0].highlight'],
    [
      'index and mark disagree',
      '    highlight: 1\n',
      '      - { value: 1, unit: 家, label: 甲 }\n      - { value: 2, unit: 家, label: 乙, highlight: true }\n',
      'groups[0].highlight',
    ],
  ])('rejects %s', async (_what, group, stats, field) => {
    const r = await load('', stats, group);
    expect(r.stats).toEqual([]);
    expect(r.problems.map((p) => [p.code, p.field])).toContainEqual(['CONTENT_FIELD', field]);
  });
});
