import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { flattenBrackets } from '../../src/cards/captions/text.ts';
import { caption, captionLength, hashtag, LIMITS } from '../../src/cards/captions.ts';
import { PLATFORMS } from '../../src/cards/config.ts';

const twitter = createRequire(import.meta.url)('twitter-text') as {
  parseTweet(t: string): { weightedLength: number; valid: boolean };
};

const input = {
  headline: '【專家解讀】中國從AI「技術追趕者」變為「規則定義者」',
  body: '中國電子信息產業發展研究院副總工程師劉權認為，2025年中國人工智能領域最顯著的進步體現在開源大模型領域實現了全球引領，以及自主可控AI產業生態的突破。'.repeat(
    3,
  ),
  url: 'https://news.example.com/2025/12/10/china-ai-rule-definer',
  tags: ['人工智能', '開源 大模型', '算力芯片', '自主創新', '2025', '中國經濟', '專利'],
};

describe('captions', () => {
  for (const platform of PLATFORMS) {
    it(`${platform}: within the platform limit, counted the platform's way`, () => {
      const c = caption(platform, input, { maxHashtags: 5, campaign: 'daily-2025-12-10' });
      expect(c.limit).toBe(LIMITS[platform]);
      expect(c.length).toBe(captionLength(platform, c.text));
      expect(c.length).toBeLessThanOrEqual(c.limit);
      expect(c.text).toContain('技術追趕者');
    });
  }

  it('x: twitter-text weighted length (CJK 2, URL 23) stays ≤ 280 and the tweet is valid', () => {
    const c = caption('x', input, { maxHashtags: 5, campaign: 'daily-2025-12-10' });
    const parsed = twitter.parseTweet(c.text);
    expect(parsed.weightedLength).toBe(c.length);
    expect(parsed.valid).toBe(true);
    expect(c.text).toMatch(/https:\/\/news\.example\.com\/\S+utm_source=x/);
    expect(c.text).toContain('…'); // the long body was shortened, not the link
  });

  it('places the link per platform: none on instagram, last on weibo with closed #topics#', () => {
    const ig = caption('instagram', input, { maxHashtags: 5 });
    expect(ig.text).not.toContain('https://');
    expect(ig.text).toContain('個人簡介');
    const wb = caption('weibo', input, { maxHashtags: 3 });
    expect(wb.text.startsWith('#人工智能#')).toBe(true);
    expect(wb.text.trim().endsWith(input.url)).toBe(true);
    const fb = caption('facebook', input, { maxHashtags: 3 });
    expect(fb.text.split('\n\n')).toContain(input.url);
  });

  it('hashtags come from tags: spaces and punctuation removed, bare numbers dropped, capped', () => {
    expect(hashtag('開源 大模型', 'x')).toBe('#開源大模型');
    expect(hashtag('2025', 'x')).toBeUndefined();
    expect(hashtag('人工智能', 'weibo')).toBe('#人工智能#');
    const c = caption('linkedin', input, { maxHashtags: 2 });
    expect(c.text.match(/#\S+/g)).toEqual(['#人工智能', '#開源大模型']);
  });

  it('a headline alone longer than the limit is still clamped to fit', () => {
    const c = caption('x', { ...input, headline: '很長的標題'.repeat(60) }, { maxHashtags: 3 });
    expect(c.length).toBeLessThanOrEqual(280);
  });
});

const tagsOf = (text: string) => text.match(/#[^\s#]+#?/g) ?? [];
const opts = { maxHashtags: 5, campaign: 'daily-2025-12-10' };

describe('captions an editor posts as they are (issue 12)', () => {
  const quote = {
    kind: 'quote' as const,
    kicker: '專家解讀',
    headline: '中國從AI「技術追趕者」變為「規則定義者」',
    quote: {
      text: '當前，國產開源模型在全球前10中佔據9席，中國正從「技術追趕者」轉變為「規則定義者」。',
      by: '劉權',
      role: '賽迪研究院副院長',
    },
    url: input.url,
    tags: ['人工智能'],
  };

  for (const platform of PLATFORMS) {
    it(`${platform}: the speaker's name and role share the quote's line`, () => {
      const c = caption(platform, quote, opts);
      const line = c.text.split('\n').find((l) => l.includes('——劉權'));
      expect(line).toMatch(/^(#\S+)?.*「當前，.*『技術追趕者』.*」——劉權，賽迪研究院副院長/u);
      // The role is never a paragraph of its own.
      expect(c.text.split('\n').map((l) => l.trim())).not.toContain('賽迪研究院副院長');
    });
  }

  it('a quote too long for X is cut inside its marks, at a phrase boundary, and still names the speaker', () => {
    const long = {
      ...quote,
      quote: {
        ...quote.quote,
        text: `${quote.quote.text}在供給層面，政策與資本給予了強有力的支持，數據與算力基礎建設發展迅速，技術自主創新也取得了良好進展。`.repeat(
          2,
        ),
      },
    };
    const c = caption('x', long, opts);
    expect(c.length).toBeLessThanOrEqual(280);
    expect(c.text).toMatch(/^「當前，[^」]*……」——劉權，賽迪研究院副院長$/mu);
  });

  it('no bracket nests inside its own kind', () => {
    const c = caption(
      'x',
      {
        kind: 'statset',
        headline: '數讀AI產業｜產業規模',
        lines: ['北京市人工智能產業規模（人民幣）：超4500億（2025年（預計））'],
        url: input.url,
        tags: [],
      },
      opts,
    );
    expect(c.text).toContain('超4500億（2025年，預計）');
    expect(flattenBrackets('（人民幣（下同），2024年）')).toBe('（人民幣，下同，2024年）');
    expect(flattenBrackets('（2025年（預計））')).toBe('（2025年，預計）');
    expect(flattenBrackets('《〈人工智能+〉行動的意見》')).toBe('《〈人工智能+〉行動的意見》');
    expect(flattenBrackets('《關於《人工智能+》行動的意見》')).toBe('《關於〈人工智能+〉行動的意見》');
    expect(flattenBrackets('(a (b) c)')).toBe('(a b c)');
    // Unmatched brackets are the writer's: left alone.
    expect(flattenBrackets('1) 第一（未完')).toBe('1) 第一（未完');
    // Weibo's 【】 around a title that has its own 【】.
    const wb = caption('weibo', { headline: '【獨家】何立峰會見美企高管', url: input.url, tags: [] }, opts);
    expect(wb.text.startsWith('【獨家，何立峰會見美企高管】')).toBe(true);
  });

  it('hashtags per platform: X 1–2 that twitter-text reads whole, Threads one, Facebook two, LinkedIn three, Instagram a block at the end, Weibo #話題# first', () => {
    const tags = ['人工智能', 'AI & 晶片', '2025', '開源大模型', '算力芯片', '自主創新', '中國'];
    const c = (p: (typeof PLATFORMS)[number]) => caption(p, { ...input, body: '短摘要。', tags }, opts).text;
    const x = c('x');
    expect(tagsOf(x)).toEqual(['#人工智能', '#AI晶片']);
    expect(createRequire(import.meta.url)('twitter-text').extractHashtags(x)).toEqual(['人工智能', 'AI晶片']);
    expect(tagsOf(c('threads'))).toEqual(['#人工智能']);
    expect(tagsOf(c('facebook'))).toHaveLength(2);
    expect(tagsOf(c('linkedin'))).toEqual(['#人工智能', '#AI晶片', '#開源大模型']);
    const ig = c('instagram').split('\n\n');
    expect(ig.at(-1)).toBe('#人工智能 #AI晶片 #開源大模型 #算力芯片 #自主創新');
    const wb = c('weibo');
    expect(wb.startsWith('#人工智能##AI晶片#【')).toBe(true);
    expect(tagsOf(wb)).toHaveLength(2);
    // A tag twitter-text would not link whole is not an X hashtag.
    expect(hashtag('123abc', 'x')).toBe('#123abc');
    expect(hashtag('_', 'x')).toBeUndefined();
  });

  it('figures: one per line where line breaks survive; Weibo one paragraph joined with ；', () => {
    const set = {
      kind: 'statset' as const,
      headline: '數讀AI產業｜智能工廠',
      lines: ['基礎級智能工廠：3萬餘家', '先進級智能工廠：1200餘家', '卓越級智能工廠：230餘家'],
      url: input.url,
      tags: ['智能製造', '數讀'],
    };
    for (const p of ['x', 'threads', 'facebook', 'linkedin', 'instagram'] as const)
      expect(caption(p, set, opts).text).toContain(set.lines.join('\n'));
    const wb = caption('weibo', set, opts).text;
    expect(wb).not.toMatch(/[\r\n]/);
    expect(wb).toContain(`】${set.lines.join('；')}。 https://`);
  });

  it('instagram prints no link and no trailing space before a line break', () => {
    const c = caption('instagram', { ...input, body: '摘要 \n 第二行 ' }, opts);
    expect(c.text).not.toMatch(/https?:\/\//);
    expect(c.text).not.toMatch(/[ \t]\n/);
  });

  it('X: a long dek is cut at a phrase boundary with an ellipsis, never inside a Latin word or figure', () => {
    const body = '深度求索發布DeepSeek-R1-Distill-Qwen-32B模型，推理成本下降38.58%，並開源全部權重。'.repeat(
      6,
    );
    const c = caption('x', { ...input, body }, opts);
    expect(c.length).toBeLessThanOrEqual(280);
    const kept = c.text.split('\n\n')[1]!;
    expect(kept).toMatch(/(……|…)$/u);
    const stem = kept.replace(/…+$/u, '');
    expect(body.startsWith(stem)).toBe(true);
    // The character after the cut starts a new token: not the middle of DeepSeek-R1… or 38.58%.
    const next = body.slice(stem.length);
    expect(`${stem.slice(-1)}${next[0]}`).not.toMatch(/^[\p{L}\p{Nd}.%-][\p{L}\p{Nd}.%-]$/u);
  });

  it('a cut inside a long quoted passage closes the marks it left open', () => {
    const body = `他說：「${'人工智能產業的發展需要長期投入，'.repeat(12)}這是共識。」`;
    const c = caption('x', { ...input, body }, opts);
    const kept = c.text.split('\n\n')[1]!;
    expect(kept).toMatch(/……」$/u);
    expect(kept.split('「').length).toBe(kept.split('」').length);
  });
});

describe('what gives way', () => {
  it('a dek cut to a stub is dropped, not printed as a few words and ……', () => {
    // 110 Han characters (220 weighted) + link and tag leave room for a few characters of the dek.
    const headline = [
      ...'中國人工智能產業規模達九千億元北京一地有望超過四千五百億元算力芯片國產替代加速專利量全球居首'.repeat(
        3,
      ),
    ]
      .slice(0, 110)
      .join('');
    const body = '工作場景，人形機器人幫忙搬貨物、做快餐已成現實；休閒場景，AI眼鏡讓用戶能夠識別萬物。';
    const c = caption('x', { headline, body, url: input.url, tags: ['人工智能'] }, opts);
    expect(c.length).toBeLessThanOrEqual(280);
    expect(c.text.startsWith(headline)).toBe(true);
    expect(c.text).not.toContain('工作場景');
    // With room for more than a stub, the dek stays, cut at a phrase boundary.
    const roomy = caption(
      'x',
      { headline: headline.slice(0, 80), body, url: input.url, tags: ['人工智能'] },
      opts,
    );
    expect(roomy.text).toMatch(/工作場景，人形機器人[^\n]*……/u);
    // A short dek that fits is kept whole.
    const short = caption('x', { headline: '標題', body: '短摘要。', url: input.url, tags: [] }, opts);
    expect(short.text).toContain('短摘要。');
  });
});
