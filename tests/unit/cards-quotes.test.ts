import { describe, expect, it } from 'vitest';
import { caption } from '../../src/cards/captions.ts';
import { editionItems } from '../../src/cards/items.ts';
import { nestQuotes, quoteStyle, wrapQuote } from '../../src/util/quotes.ts';
import { article, context, edition } from '../fixtures/cards/edition.ts';

// Nested quotation marks alternate by depth wherever we wrap a quote (cards,
// captions, email): 「…『…「…」…』…」, mainland “…‘…’…”.

describe('wrapQuote', () => {
  it('marks quotes inside a quote with 『』, and deeper ones with 「」 again', () => {
    expect(wrapQuote('中國正從「技術追趕者」轉變為「規則定義者」')).toBe(
      '「中國正從『技術追趕者』轉變為『規則定義者』」',
    );
    expect(wrapQuote('他說「她說『好』」')).toBe('「他說『她說「好」』」');
  });
  it("replaces the writer's own outer pair, but not two separate quotes", () => {
    expect(wrapQuote('「當前，中國正從「技術追趕者」轉變」')).toBe('「當前，中國正從『技術追趕者』轉變」');
    expect(wrapQuote('「a」和「b」')).toBe('「『a』和『b』」');
    expect(wrapQuote('"AI" is here')).toBe('「『AI』 is here」');
  });
  it('zh-Hans uses “‘’”; an apostrophe is left alone', () => {
    expect(quoteStyle('zh-Hans')).toBe('hans');
    expect(quoteStyle('zh-Hant-HK')).toBe('hant');
    expect(wrapQuote('從「技術追趕者」轉變', 'hans')).toBe('“從‘技術追趕者’轉變”');
    expect(wrapQuote('Xi’an的「新」故事')).toBe('「Xi’an的『新』故事」');
    expect(nestQuotes('「a」', 'hans', 0)).toBe('“a”');
  });
  it('the quote card caption uses the same marks', () => {
    const ctx = context();
    const quoted = article({
      id: 'q',
      quote: { text: '中國正從「技術追趕者」轉變為「規則定義者」', by: '劉權', role: '副總工程師' },
    });
    const items = editionItems(edition({ articles: [quoted], stats: [] }), {
      kinds: ['quote'],
      contentDir: ctx.paths.content,
      brandUrl: ctx.config.brand.url,
    });
    // Issue 12: the speaker's role shares the quote's line (it was a paragraph of its own).
    const text = caption('x', items[0]!.caption, { maxHashtags: 2 }).text;
    expect(text.split('\n')[0]).toBe('「中國正從『技術追趕者』轉變為『規則定義者』」——劉權，副總工程師');
  });
});
