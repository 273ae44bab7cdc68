import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flattenBrackets, oneLine } from '../../src/cards/captions/text.ts';
import { caption } from '../../src/cards/captions.ts';
import { PLATFORMS } from '../../src/cards/config.ts';
import { archiveUrl, editionItems } from '../../src/cards/items.ts';
import type { Article, Stat, StatSet } from '../../src/content/model.ts';
import type { Edition } from '../../src/edition/model.ts';

// Properties of every caption of generated editions (seeded, bounded): X ≤ 280
// weighted; no bracket inside its own kind; no label said twice; links only to
// the item's own page or the edition's archive; a cut never inside a word,
// figure, emoji or grapheme cluster.

const twitter = createRequire(import.meta.url)('twitter-text') as {
  parseTweet(t: string): { weightedLength: number };
  extractUrls(t: string): string[];
};

// Atoms a cut must never split. No two of them joined make a third, so a split
// atom in the output is a real split.
const HAN = [
  '中國',
  '經濟',
  '市場',
  '科技',
  '政府',
  '香港',
  '企業',
  '創新',
  '投資',
  '政策',
  '芯片',
  '專利',
  '算力',
  '研究',
  '報告',
];
const LATIN = [
  'DeepSeek-R1',
  'Qwen2.5-VL-72B',
  'GPT-4o',
  'AI',
  '5G',
  'HK$1.5億',
  '38.58%',
  '2025年11月10日',
  'huggingface.co',
];
const EMOJI = ['👨‍👩‍👧‍👦', '🇭🇰', '👍🏽', '1️⃣'];
const ATOMS = [...HAN, ...LATIN, ...EMOJI];
const SEP = ['', '', '', ' ', '，', '、', '。', '：'];
// Labels come from words the titles never use, so a label found twice was printed twice.
const LABELS = [
  '用戶規模總數',
  '普及比率數值',
  '企業數量總計',
  '全球佔比份額',
  '基金規模總額',
  '數據集總體量',
];

const words = (min: number, max: number) =>
  fc
    .array(fc.tuple(fc.constantFrom(...ATOMS), fc.constantFrom(...SEP)), {
      minLength: min,
      maxLength: max,
      size: 'max',
    })
    .map((ws) =>
      ws
        // Latin words and figures are never glued to each other (GPT-4o5G is no text): a space between.
        .map(([w, s], i) =>
          s === '' && /(?:[A-Za-z0-9%]|\u20e3)$/u.test(w) && /^[A-Za-z0-9$]/.test(ws[i + 1]?.[0] ?? '')
            ? `${w} `
            : w + s,
        )
        .join('')
        .replace(/[，、。： ]+$/u, ''),
    );
/** Text with brackets and quotes, some nested in their own kind (（…（…）…）, 《…《…》…》, 「…「…」…」). */
const text = (min: number, max: number): fc.Arbitrary<string> =>
  fc
    .tuple(
      words(min, max),
      fc.constantFrom('', '（', '《', '「', '【'),
      words(1, 3),
      fc.boolean(),
      words(0, 4),
    )
    .map(([a, o, inner, nest, b]) => {
      if (!o) return a + b;
      const c = { '（': '）', '《': '》', '「': '」', '【': '】' }[o]!;
      const mid = nest ? `${inner}${o}${inner}${c}` : inner;
      return `${a}${o}${mid}${c}${b}`;
    })
    .filter((s) => s.trim().length > 0);

const slug = fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/);
const url = fc
  .tuple(fc.constantFrom('news.example.com', 'data.example.org'), slug)
  .map(([h, p]) => `https://${h}/${p}`);
const tag = fc.oneof(
  fc.constantFrom(...HAN, 'AI & 晶片', '2025', '開源 大模型', '#已有井號', '_'),
  words(1, 2),
);

const stat: fc.Arbitrary<Stat> = fc
  .record({
    value: fc.constantFrom(9, 36.5, 5300, 0.3, 157.6, 30000),
    unit: fc.constantFrom('席', '%', '家', '萬件', '億元'),
    label: fc.constantFrom(...LABELS),
    period: fc.option(fc.constantFrom('2025年', '2025年（預計）', '截至2025年9月', '史丹福《2025年報告》'), {
      nil: undefined,
    }),
    shout: fc.constantFrom('none', 'label', 'qualifier'),
  })
  .map(({ shout, ...s }) => ({
    ...s,
    // A display that repeats the label (全球前10中佔據9席), or one with a qualifier.
    display:
      shout === 'label'
        ? `${s.label.slice(0, 4)}中佔據${s.value}${s.unit}`
        : shout === 'qualifier'
          ? `超${s.value}${s.unit}`
          : undefined,
  }));

const article = (i: number): fc.Arbitrary<Article> =>
  fc
    .record({
      title: text(1, 40),
      kicker: fc.option(fc.constantFrom('專家解讀', '獨家', '數讀'), { nil: undefined }),
      dek: text(0, 120),
      url,
      tags: fc.array(tag, { maxLength: 8 }),
      section: fc.constantFrom('中國', '要聞', '科技'),
      quote: fc.option(
        fc.record({
          text: text(1, 100),
          by: fc.constantFrom('劉權', 'Jane Doe'),
          role: fc.constantFrom('賽迪研究院副院長', ''),
        }),
        { nil: undefined },
      ),
    })
    .map((a) => ({
      ...a,
      id: `a${i}`,
      authors: [],
      source: '大公報',
      publishedAt: '2025-12-10T07:00:00+08:00',
      body: '',
      sourcePath: `articles/a${i}.md`,
    }));

const statSet: fc.Arbitrary<StatSet> = fc
  .record({
    title: text(1, 6),
    link: fc.oneof(
      fc.constant({}),
      url.map((u) => ({ url: u })),
      fc.constantFrom('a0', 'a1', 'gone').map((article) => ({ article })),
    ),
    tags: fc.option(fc.array(tag, { maxLength: 4 }), { nil: undefined }),
    groups: fc.array(
      fc.record({ heading: words(1, 3), stats: fc.array(stat, { minLength: 1, maxLength: 4 }) }),
      {
        minLength: 1,
        maxLength: 2,
      },
    ),
  })
  .map(({ link, ...s }) => ({
    ...s,
    ...link,
    id: 'set',
    date: '2025-12-10',
    credit: '大公報',
    sourcePath: 'stats/set.yaml',
  }));

const edition: fc.Arbitrary<Edition> = fc
  .record({ articles: fc.tuple(article(0), article(1)), stats: fc.array(statSet, { maxLength: 1 }) })
  .map(({ articles, stats }) => ({
    id: 'daily-2025-12-10',
    name: 'daily',
    date: '2025-12-10',
    timezone: 'Asia/Hong_Kong',
    locale: 'zh-Hant-HK',
    title: '每日簡報',
    articles,
    stats,
    leftOut: [],
  }));

const PUBLIC = 'https://news.example.com/broadsheet/';
const FAMILY: Record<string, [string, string]> = {
  '（': ['p', 'o'],
  '）': ['p', 'c'],
  '(': ['p', 'o'],
  ')': ['p', 'c'],
  '【': ['l', 'o'],
  '】': ['l', 'c'],
  '《': ['t', 'o'],
  '》': ['t', 'c'],
  '〔': ['k', 'o'],
  '〕': ['k', 'c'],
};

/** A bracket opened inside one of its own kind (quotes: directly inside the same mark). */
function nested(s: string): string | undefined {
  const open: string[] = [];
  const quotes: string[] = [];
  for (const c of s) {
    const f = FAMILY[c];
    if (f?.[1] === 'o') {
      if (open.includes(f[0])) return c;
      open.push(f[0]);
    } else if (f?.[1] === 'c') {
      const k = open.lastIndexOf(f[0]);
      if (k >= 0) open.length = k;
    } else if (c === '「' || c === '『') {
      if (quotes.at(-1) === c) return c;
      quotes.push(c);
    } else if ((c === '」' || c === '』') && quotes.length) quotes.pop();
  }
  return undefined;
}

/** An atom split by a cut: text before an ellipsis ends with its start while the source goes on with its rest. */
function splitAtom(out: string, sources: string[]): string | undefined {
  for (const m of out.matchAll(/…+/gu)) {
    const before = out.slice(0, m.index);
    for (const w of ATOMS)
      for (let k = 1; k < w.length; k++) {
        const head = w.slice(0, k);
        if (!before.endsWith(head)) continue;
        // Every place the kept text could come from continues with the rest of w: a split.
        const tail = before.slice(-Math.max(k + 6, 8));
        const at = sources.flatMap((src) =>
          [...src.matchAll(new RegExp(tail.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu'))].map((x) =>
            src.slice(x.index + tail.length),
          ),
        );
        if (at.length && at.every((rest) => rest.startsWith(w.slice(k)))) return `${w} cut after ${head}`;
      }
  }
  return undefined;
}

describe('caption properties over generated editions', () => {
  it('hold for every item and platform', () => {
    let cutOnX = 0;
    fc.assert(
      fc.property(edition, (ed) => {
        const items = editionItems(ed, {
          kinds: ['article', 'quote', 'statset', 'stat'],
          contentDir: '/nonexistent',
          brandUrl: 'https://news.example.com/',
          publicUrl: PUBLIC,
        });
        const archive = archiveUrl(PUBLIC, ed.id);
        const byId = new Map(ed.articles.map((a) => [a.id, a]));
        for (const item of items) {
          const set = ed.stats.find((s) => item.source === s.sourcePath);
          const own = set
            ? (set.url ?? byId.get(set.article ?? '')?.url ?? archive)
            : byId.get(item.itemId.replace(/-quote$/, ''))!.url;
          const labels = set ? [...new Set(set.groups.flatMap((g) => g.stats.map((s) => s.label)))] : [];
          const c = item.caption;
          const sources = [c.headline, c.body ?? '', c.quote?.text ?? '', ...(c.lines ?? [])].map((s) =>
            flattenBrackets(oneLine(s)),
          );
          for (const platform of PLATFORMS) {
            const { text, length, limit } = caption(platform, item.caption, {
              maxHashtags: 5,
              campaign: ed.id,
            });
            const where = `${item.itemId} ${platform}:\n${text}`;
            expect(length, where).toBeLessThanOrEqual(limit);
            if (platform === 'x') {
              expect(twitter.parseTweet(text).weightedLength, where).toBeLessThanOrEqual(280);
              if (text.includes('…')) cutOnX++;
            }
            expect(nested(text), where).toBeUndefined();
            for (const l of labels)
              expect(text.split(l).length - 1, `${l} twice in ${where}`).toBeLessThanOrEqual(1);
            // Our links (a bare domain in a headline, huggingface.co, is the writer's text).
            const links = twitter.extractUrls(text).filter((u) => /^https?:\/\//.test(u));
            for (const u of links) expect(u.split('?')[0], where).toBe(own);
            expect(links.length, where).toBe(platform === 'instagram' ? 0 : 1);
            expect(splitAtom(text, sources), where).toBeUndefined();
            if (platform === 'weibo') expect(text, where).not.toMatch(/\n/);
          }
        }
      }),
      { seed: Number(process.env.CAPTION_SEED ?? 20251210), numRuns: 100, endOnFailure: true },
    );
    // The generated texts are long enough that X has to cut many of them.
    expect(cutOnX, `${cutOnX} X captions cut`).toBeGreaterThan(50);
  }, 120_000);
});
