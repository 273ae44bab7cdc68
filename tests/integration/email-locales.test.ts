// Locales as data: the zh-Hans and English variants of the real sample
// edition, compiled from the real templates with their own catalogs.
import { HtmlValidate } from 'html-validate';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Edition } from '../../src/edition/model.ts';
import { type DigestResult, mergeRecipient, renderDigest } from '../../src/email/index.ts';
import { convertText } from '../../src/email/locale.ts';
import { emailContext, HTML_VALIDATE_EMAIL, RECIPIENT, seedEdition } from '../fixtures/email/fixtures.ts';

const ctx = emailContext();
let seed: Edition;
let digest: DigestResult;

beforeAll(async () => {
  seed = await seedEdition(ctx);
  digest = await renderDigest(seed, ctx, { validation: 'strict' });
});

/** Visible text of an HTML document (tags, styles and comments out). */
const visible = (html: string) =>
  html
    .replace(/<style[\s\S]*?<\/style>|<!--[\s\S]*?-->/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ');

describe('variants of a Hong Kong edition', () => {
  it('compiles zh-Hant-HK and zh-Hans once, the edition own first', () => {
    expect(Object.keys(digest.variants)).toEqual(['zh-Hant-HK', 'zh-Hans']);
    expect(digest.html).toBe(digest.variants['zh-Hant-HK']!.html);
    // A reader's copy is the variant with the tokens filled: no compile per reader.
    const m = mergeRecipient(digest, { ...RECIPIENT, locale: 'zh-Hans' });
    const filled = digest.variants['zh-Hans']!.html.replace(/%%[a-z_]+%%/g, '');
    expect(m.html.length).toBeGreaterThan(filled.length);
    expect(m.locale).toBe('zh-Hans');
  });

  it('gives the zh-Hans reader a complete mainland edition', () => {
    const v = digest.variants['zh-Hans']!;
    const m = mergeRecipient(digest, { ...RECIPIENT, name: '李小梅', locale: 'zh-Hans' });
    expect(m.fromName).toBe('大公报每日简报');
    expect(m.listName).toBe('每日简报');
    expect(v.html).toMatch(/^<!doctype html><html lang="zh-Hans"/);
    expect(v.html).toContain("'PingFang SC'");
    expect(v.html).not.toContain('PingFang HK');
    const text = visible(v.html);
    expect(text).not.toMatch(/[「」『』]/);
    expect(text).toContain('“当前，国产开源模型');
    expect(text).toContain('‘技术追赶者’');
    expect(m.text).toContain('李小梅，早上好！');
    expect(m.html).toContain('查看网页版');
    // Its own archive page, not the Traditional one.
    expect(m.html).toContain(`href="${RECIPIENT.viewOnlineUrl}/zh-Hans"`);
    expect(m.html).not.toContain(`href="${RECIPIENT.viewOnlineUrl}"`);
    expect(m.text).toContain(`${RECIPIENT.viewOnlineUrl}/zh-Hans\n`);
    for (const a of seed.articles) expect(m.html).toContain(`href="${a.url}?utm_`);
  });

  it('converts Hong Kong vocabulary with phrase conversion, leaving URLs alone', () => {
    expect(convertText('史丹福大學的晶片和伺服器')).toBe('斯坦福大学的芯片和服务器');
    expect(convertText('每日簡報')).toBe('每日简报'); // not OpenCC's Taiwan 演示文稿
    expect(convertText('見 https://x.example/史丹福「a」')).toBe('见 https://x.example/史丹福「a」');
  });

  it('gives a reader with an unsupported or English locale the edition own variant', () => {
    for (const locale of ['en-GB', 'fr', undefined]) {
      const m = mergeRecipient(digest, { ...RECIPIENT, locale });
      expect(m.locale).toBe('zh-Hant-HK');
      expect(m.html).toContain(`href="${RECIPIENT.viewOnlineUrl}"`);
    }
    expect(mergeRecipient(digest, { ...RECIPIENT, locale: 'zh-CN' }).locale).toBe('zh-Hans');
  });

  it('keeps the configured greeting name, or says 读者 in the zh-Hans catalog when left at the default', () => {
    const anon = { ...RECIPIENT, name: undefined, locale: 'zh-Hans' };
    expect(mergeRecipient(digest, anon, { defaultName: '讀者' }).text).toContain('读者，早上好');
    expect(mergeRecipient(digest, anon, { defaultName: '親愛的讀者' }).text).toContain('親愛的讀者，早上好');
  });
});

describe('English editions', () => {
  it('uses the en-GB catalog and date for an en-GB edition, with one variant', async () => {
    const d = await renderDigest({ ...seed, locale: 'en-GB' }, ctx, { validation: 'strict' });
    expect(Object.keys(d.variants)).toEqual(['en-GB']);
    expect(d.html).toMatch(/^<!doctype html><html lang="en-GB"/);
    const m = mergeRecipient(d, { ...RECIPIENT, name: 'Ann', locale: 'zh-Hans' });
    expect(m.locale).toBe('en-GB');
    expect(m.html).toContain('Wednesday 10 December 2025');
    expect(m.text).toContain('Good morning, Ann. Here is today’s news.');
    expect(m.text).toContain('Unsubscribe:\n');
    expect(m.html).toContain('Read the full story →');
    expect(d.html).not.toMatch(/早晨|取消訂閱|在瀏覽器中查看/);
  });

  it('writes en-US dates', async () => {
    const d = await renderDigest({ ...seed, locale: 'en-US' }, ctx);
    expect(d.html).toContain('Wednesday, December 10, 2025');
  });

  it('accepts locale: en-GB in the configuration', () => {
    expect(emailContext({ locale: 'en-GB' }).config.locale).toBe('en-GB');
  });
});

describe('html-validate', () => {
  it('passes for the zh-Hans and the English variant', async () => {
    const en = await renderDigest({ ...seed, locale: 'en-GB' }, ctx, { validation: 'strict' });
    for (const html of [
      mergeRecipient(digest, { ...RECIPIENT, locale: 'zh-Hans' }).html,
      mergeRecipient(en, RECIPIENT).html,
    ]) {
      const report = await new HtmlValidate(HTML_VALIDATE_EMAIL).validateString(html);
      expect(report.results.flatMap((r) => r.messages.map((m) => `${m.ruleId}: ${m.message}`))).toEqual([]);
    }
  });
});
