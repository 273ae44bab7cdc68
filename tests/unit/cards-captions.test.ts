import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
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
    const c = caption('threads', input, { maxHashtags: 2 });
    expect(c.text.match(/#\S+/g)).toEqual(['#人工智能', '#開源大模型']);
  });

  it('a headline alone longer than the limit is still clamped to fit', () => {
    const c = caption('x', { ...input, headline: '很長的標題'.repeat(60) }, { maxHashtags: 3 });
    expect(c.length).toBeLessThanOrEqual(280);
  });
});
