import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadContent } from '../../src/content/load.ts';

const BAD = join(import.meta.dirname, '../fixtures/content-bad');
const SAMPLE = join(import.meta.dirname, '../../content');

describe('loadContent on a folder of every bad case', async () => {
  const r = await loadContent(BAD);
  const byFile = (name: string) => r.problems.filter((p) => p.file.endsWith(name));

  it.each([
    ['broken-yaml.md', 'CONTENT_YAML', undefined],
    ['missing-fields.md', 'CONTENT_FIELD', 'title'],
    ['impossible-date.md', 'CONTENT_FIELD', 'publishedAt'],
    ['no-offset.md', 'CONTENT_FIELD', 'publishedAt'],
    ['javascript-url.md', 'CONTENT_FIELD', 'url'],
    ['data-url.md', 'CONTENT_FIELD', 'url'],
    ['control-chars.md', 'CONTENT_FIELD', 'title'],
    ['long-title.md', 'CONTENT_FIELD', 'title'],
    ['image-escape.md', 'CONTENT_IMAGE_PATH', 'image.src'],
    ['http-image.md', 'CONTENT_IMAGE_PATH', 'image.src'],
    ['http-image.md', 'CONTENT_IMAGE_PATH', 'quote.portrait.src'],
    ['zz-duplicate-id.md', 'CONTENT_DUPLICATE_ID', 'id'],
    ['empty.md', 'CONTENT_EMPTY', undefined],
    ['binary.md', 'CONTENT_BINARY', undefined],
    ['no-front-matter.md', 'CONTENT_NO_FRONT_MATTER', undefined],
    ['string-number.yaml', 'CONTENT_FIELD', 'groups[0].stats[1].value'],
    ['missing-unit.yaml', 'CONTENT_FIELD', 'groups[0].stats[0].unit'],
    ['empty-group.yaml', 'CONTENT_FIELD', 'groups[0].stats'],
    ['no-groups.yaml', 'CONTENT_FIELD', 'groups'],
    ['stats/impossible-date.yaml', 'CONTENT_FIELD', 'date'],
  ])('%s → %s at %s', (file, code, field) => {
    const ps = byFile(file);
    expect(ps.length).toBeGreaterThan(0);
    expect(ps.map((p) => p.code)).toContain(code);
    if (field) expect(ps.map((p) => p.field)).toContain(field);
    for (const p of ps) expect(p.hint.length).toBeGreaterThan(10);
  });

  it('names the line where it is known', () => {
    expect(byFile('string-number.yaml')[0]!.line).toBe(11);
    expect(byFile('javascript-url.md')[0]!.line).toBe(8);
    expect(byFile('broken-yaml.md')[0]!.line).toBe(3);
  });

  it('reports a number given as a string with the value it received', () => {
    expect(byFile('string-number.yaml')[0]!.message).toBe('expected number, received "157.6萬"');
  });

  it('refuses an http image with a hint naming the https address', () => {
    const p = byFile('http-image.md').find((x) => x.field === 'image.src')!;
    expect(p.line).toBe(9);
    expect(p.hint).toContain('https://img.example.com/a.jpg');
  });

  it('names the control character', () => {
    expect(byFile('control-chars.md')[0]!.message).toContain('U+0007');
  });

  it('still loads the valid files, keeping hostile-looking text literal', () => {
    expect(r.articles.map((a) => a.id)).toEqual(['valid-hostile']);
    expect(r.stats.map((s) => s.id)).toEqual(['valid-stats']);
    const a = r.articles[0]!;
    expect(a.title).toBe('<script>alert(1)</script> & "引號" 𨋢𡃁啲嘅 🇭🇰 {{ x }} {% raw %}');
    expect(a.dek).toBe('A&B <b>粗</b> 👨‍👩‍👧 {{ brand.name }}');
    expect(a.tags).toEqual(['AI & 晶片', '{% endraw %}']);
    expect(a.sourcePath).toBe('articles/2025-12-10/valid-hostile.md');
  });

  it('counts every file it read', () => {
    expect(r.files).toBe(21);
  });
});

describe('the sample content from the seed page', async () => {
  const r = await loadContent(SAMPLE);

  it('is valid', () => {
    expect(r.problems).toEqual([]);
    expect(r.articles).toHaveLength(4);
    expect(r.stats.length).toBeGreaterThanOrEqual(2);
  });

  it('has every article of the page', () => {
    const titles = r.articles.map((a) => a.title).join('\n');
    for (const t of [
      '何立峰會見美企高管',
      '中國AI突飛猛進 專利量全球居首',
      '數據治理大模型 政企管理好幫手',
      '中國從AI「技術追趕者」變為「規則定義者」',
    ])
      expect(titles).toContain(t);
    const expert = r.articles.find((a) => a.quote);
    expect(expert?.quote?.by).toBe('劉權');
    expect(expert?.kicker).toBe('專家解讀');
    expect(r.articles.some((a) => a.series?.includes('2025中國經濟回顧'))).toBe(true);
  });

  it('keeps the 數讀 figures as numbers with units', () => {
    const box = r.stats.find((s) => s.title === '數讀中國AI發展')!;
    const stats = box.groups.flatMap((g) => g.stats);
    const pairs = stats.map((s) => `${s.value}${s.unit}`);
    for (const want of ['5.15億人', '36.5%', '157.6萬件', '38.58%', '5300家', '15%', '400家'])
      expect(pairs).toContain(want);
    expect(stats.find((s) => s.value === 5.15)?.change).toMatchObject({ value: 2.66, unit: '億人' });
    expect(stats.find((s) => s.value === 5300)?.display).toBe('超5300家');
    expect(stats.find((s) => s.value === 400)?.display).toBe('400餘家');
  });

  it('charts the other hard figures in a second set', () => {
    const other = r.stats
      .filter((s) => s.title !== '數讀中國AI發展')
      .flatMap((s) => s.groups.flatMap((g) => g.stats));
    const values = other.map((s) => s.value);
    for (const v of [9000, 4500, 60, 1200, 230, 28.4, 22.3, 400, 30, 84, 0.3]) expect(values).toContain(v);
  });
});

describe('loadContent on a missing folder', () => {
  it('throws CONTENT_DIR_MISSING', async () => {
    await expect(loadContent(join(BAD, 'nope'))).rejects.toMatchObject({ code: 'CONTENT_DIR_MISSING' });
  });
});

describe('real-world front matter', () => {
  it('accepts numeric ids, a single author string and extra CMS fields, but flags near-miss field names', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const root = mkdtempSync(join(tmpdir(), 'bs-real-'));
    mkdirSync(join(root, 'articles/2025-12-10'), { recursive: true });
    const fm = (extra: string) =>
      `---\ntitle: 港股收市\ndek: 恒指升\nsection: 財經\nsource: 大公報\npublishedAt: 2025-12-10T16:10:00+08:00\nurl: https://news.example.com/a\n${extra}---\n`;
    writeFileSync(join(root, 'articles/2025-12-10/a.md'), fm('id: 1234567\nauthors: 郭瀚林\nupdatedAt: x\n'));
    writeFileSync(join(root, 'articles/2025-12-10/b.md'), fm('id: b\nkickr: 專家解讀\n'));
    const r = await loadContent(root);
    expect(r.articles.map((a) => [a.id, a.authors])).toEqual([['1234567', ['郭瀚林']]]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ field: 'kickr', line: 9, code: 'CONTENT_FIELD' });
    expect(r.problems[0]!.hint).toContain('"kicker"');
  });
});

describe('two files claiming one id', () => {
  const article = (id: string, publishedAt: string) =>
    `---\ntitle: 標題\nid: ${id}\ndek: 摘要\nsection: 要聞\nsource: 大公報\npublishedAt: "${publishedAt}"\nurl: https://news.example.com/a\n---\n`;
  const statSet = (id: string, date: string) =>
    `# a comment line\nid: ${id}\ntitle: 數讀\ndate: "${date}"\ncredit: 大公報\ngroups:\n  - heading: 規模\n    stats:\n      - { value: 1, unit: 家, label: 企業 }\n`;

  async function load(files: Record<string, string>) {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { dirname } = await import('node:path');
    const root = mkdtempSync(join(tmpdir(), 'bs-dup-'));
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(join(root, dirname(rel)), { recursive: true });
      writeFileSync(join(root, rel), text);
    }
    return loadContent(root);
  }

  const older = article('same-id', '2025-12-10T07:00:00+08:00');
  const newer = article('same-id', '2025-12-10T09:00:00+08:00');

  it.each([
    ['older file sorts first', 'a.md', 'b.md'],
    ['older file sorts last', 'b.md', 'a.md'],
  ])(
    'keeps the older article whatever the file names (%s), reporting the other with both lines',
    async (_, o, n) => {
      const r = await load({ [`articles/2025-12-10/${o}`]: older, [`articles/2025-12-10/${n}`]: newer });
      expect(r.articles.map((a) => a.sourcePath)).toEqual([`articles/2025-12-10/${o}`]);
      expect(r.problems).toHaveLength(1);
      const p = r.problems[0]!;
      expect(p).toMatchObject({ code: 'CONTENT_DUPLICATE_ID', field: 'id', line: 3 });
      expect(p.file).toMatch(new RegExp(`${n}$`));
      // The message names the kept file with its line.
      expect(p.message).toMatch(new RegExp(`${o}:3 `));
    },
  );

  it.each([
    ['a.md', 'b.md'],
    ['b.md', 'a.md'],
  ])('uses neither when both have the same publishedAt (%s first), reporting both', async (x, y) => {
    const r = await load({ [`articles/2025-12-10/${x}`]: older, [`articles/2025-12-10/${y}`]: older });
    expect(r.articles).toEqual([]);
    expect(r.problems.map((p) => [p.code, p.line, p.file.split('/').pop()]).sort()).toEqual([
      ['CONTENT_DUPLICATE_ID', 3, 'a.md'],
      ['CONTENT_DUPLICATE_ID', 3, 'b.md'],
    ]);
  });

  it('keeps the older of two stat sets by date, and uses neither of an article and a stat set', async () => {
    const r = await load({
      'stats/z-old.yaml': statSet('box', '2025-12-09'),
      'stats/a-new.yaml': statSet('box', '2025-12-10'),
      'stats/mixed.yaml': statSet('mixed', '2025-12-01'),
      'articles/2025-12-10/mixed.md': article('mixed', '2025-12-10T07:00:00+08:00'),
    });
    expect(r.stats.map((s) => s.sourcePath)).toEqual(['stats/z-old.yaml']);
    expect(r.articles).toEqual([]);
    const byFile = Object.fromEntries(r.problems.map((p) => [p.file.split('/').pop(), p]));
    expect(Object.keys(byFile).sort()).toEqual(['a-new.yaml', 'mixed.md', 'mixed.yaml']);
    expect(byFile['a-new.yaml']).toMatchObject({ line: 2, code: 'CONTENT_DUPLICATE_ID' });
    expect(byFile['mixed.yaml']!.message).toContain('mixed.md:3');
  });
});
