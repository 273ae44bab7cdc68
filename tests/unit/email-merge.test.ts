import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  escapeText,
  MERGE_LIMITS,
  MergeFieldError,
  mergeRecipient,
  tokenCounts,
  worstCaseBytes,
} from '../../src/email/merge.ts';

const digest = {
  subject: '大公報｜數讀發展',
  html: '<html lang="zh-Hant-HK"><p>%%name%%，早晨！</p><a href="%%unsubscribe_url%%">取消訂閱</a><a href="%%view_online_url%%">數讀</a> %%email%% 100&#37;%</html>',
  text: '%%name%%，早晨！\n取消訂閱：%%unsubscribe_url%%\n%%email%%\n數讀',
};
const r = {
  email: 'a&b@example.com',
  name: '<script>alert("x")</script> & 𨋢',
  unsubscribeUrl: 'https://news.example.com/u/t?a=1&b=2',
  viewOnlineUrl: 'https://news.example.com/archive/daily-2025-12-10',
};

describe('per-recipient merge', () => {
  it('escapes a hostile name in HTML and keeps it literal in text', () => {
    const m = mergeRecipient(digest, r);
    expect(m.html).toContain('<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; 𨋢，早晨！</p>');
    expect(m.html).toContain('href="https://news.example.com/u/t?a=1&amp;b=2"');
    expect(m.html).not.toContain('<script>');
    expect(m.text.startsWith('<script>alert("x")</script> & 𨋢，早晨！')).toBe(true);
    expect(m.html).not.toMatch(/%%[a-z_]+%%/);
    expect(m.text).not.toMatch(/%%[a-z_]+%%/);
    // Data that looked like a token stays data.
    expect(m.html).toContain('100&#37;%');
  });

  it('uses the default name and refuses over-long fields', () => {
    expect(mergeRecipient(digest, { ...r, name: ' ' }, { defaultName: '讀者' }).text).toMatch(/^讀者，/);
    expect(() => mergeRecipient(digest, { ...r, name: 'x'.repeat(MERGE_LIMITS.name + 1) })).toThrow(
      MergeFieldError,
    );
  });

  it('converts for a zh-Hans recipient, leaving links and numbers', () => {
    const m = mergeRecipient(digest, { ...r, name: '李小梅', locale: 'zh-Hans' });
    expect(m.subject).toBe('大公报｜数读发展');
    expect(m.html).toContain('lang="zh-Hans"');
    expect(m.html).toContain('<a href="https://news.example.com/archive/daily-2025-12-10">数读</a>');
    expect(m.html).toContain('100&#37;%');
    expect(m.text).toContain('取消订阅：https://news.example.com/u/t?a=1&b=2');
  });

  it('breaks "%%" in data so content can never become a merge token', () => {
    expect(escapeHtml('%%name%% 5%')).toBe('&#37;%name&#37;% 5%');
    expect(escapeText('%%name%%')).not.toContain('%%');
    expect(tokenCounts(digest.html)).toEqual({ name: 1, unsubscribe_url: 1, view_online_url: 1, email: 1 });
  });

  it('measures the worst-case merged size', () => {
    const base = Buffer.byteLength(digest.html.replace(/%%[a-z_]+%%/g, ''));
    const worst =
      base +
      5 *
        (MERGE_LIMITS.name +
          MERGE_LIMITS.email +
          MERGE_LIMITS.unsubscribe_url +
          MERGE_LIMITS.view_online_url);
    expect(worstCaseBytes(digest.html)).toBe(worst);
    const longest = {
      email: `${'"'.repeat(MERGE_LIMITS.email - 12)}@example.com`,
      name: '"'.repeat(MERGE_LIMITS.name),
      unsubscribeUrl: `https://x/${'&'.repeat(MERGE_LIMITS.unsubscribe_url - 10)}`,
      viewOnlineUrl: `https://x/${'&'.repeat(MERGE_LIMITS.view_online_url - 10)}`,
    };
    expect(Buffer.byteLength(mergeRecipient(digest, longest).html)).toBeLessThanOrEqual(worst);
  });
});
