// The digest stage end to end on real templates and the real sample content.
// Golden file: tests/fixtures/email/seed-digest.html. After an intended change
// to templates or content, regenerate it with
//   UPDATE_GOLDEN=1 npx vitest run tests/integration/email-digest.test.ts
// and review the diff like code.
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HtmlValidate } from 'html-validate';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Edition } from '../../src/edition/model.ts';
import { type CompileShare, compileDigest } from '../../src/email/compile.ts';
import { figure } from '../../src/email/format.ts';
import { type DigestResult, mergeRecipient, renderDigest } from '../../src/email/index.ts';
import { digestView } from '../../src/email/view.ts';
import { isBroadsheetError } from '../../src/errors/index.ts';
import {
  emailContext,
  FIXTURES,
  HOSTILE,
  HTML_VALIDATE_EMAIL,
  hostileEdition,
  RECIPIENT,
  ROOT,
  seedEdition,
  storiesEdition,
} from '../fixtures/email/fixtures.ts';

const ctx = emailContext();
let seed: Edition;
let digest: DigestResult;

beforeAll(async () => {
  seed = await seedEdition(ctx);
  digest = await renderDigest(seed, ctx, { validation: 'strict' });
});

describe('seed digest', () => {
  it('matches the golden HTML', async () => {
    const golden = join(FIXTURES, 'seed-digest.html');
    if (process.env.UPDATE_GOLDEN) await writeFile(golden, digest.html);
    expect(digest.html).toBe(await readFile(golden, 'utf8'));
  });

  it('is zh-Hant-HK, minified, with system fonts only and a hidden (not white) preheader', () => {
    expect(digest.html).toMatch(/^<!doctype html><html lang="zh-Hant-HK"/);
    expect(digest.html).not.toMatch(/fonts\.googleapis|@import|<link[^>]+stylesheet/);
    // CSS really is minified (cssnano): no ": " or "{ " inside style blocks.
    // Our own style block (MJML's Outlook-only block inside a conditional comment is left alone).
    const css = [...digest.html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/g)]
      .map((m) => m[1]!)
      .find((c) => c.includes('color-scheme'))!;
    expect(css).toMatch(/@media \(prefers-color-scheme: ?dark\)\{/);
    expect(css).toContain('[data-ogsc]');
    expect(css).not.toMatch(/;\s+\w|\{\s+\w|:\s+#/);
    expect(digest.html).not.toMatch(/color:#fff(fff)?[;"][^>]*>[^<]*早晨/);
    expect(digest.html).toMatch(
      /display:none;font-size:1px;[^"]*opacity:0;overflow:hidden;mso-hide:all">何立峰/,
    );
    expect(digest.html).toContain('2025年12月10日 星期三');
  });

  it('has the footer links, address and why-you-get-this', () => {
    const m = mergeRecipient(digest, RECIPIENT);
    expect(m.html).toContain(`<a href="${RECIPIENT.unsubscribeUrl}"`);
    expect(m.html).toContain('取消訂閱</a>');
    expect(m.html).toContain(`<a href="${RECIPIENT.viewOnlineUrl}"`);
    expect(m.html).toContain(ctx.config.brand.address);
    expect(m.html).toContain(`你以 ${RECIPIENT.email} 訂閱了`);
    // URLs stand on a line of their own in the text part, so no wrap can break them.
    expect(m.text).toContain(`取消訂閱：\n${RECIPIENT.unsubscribeUrl}\n`);
  });

  it('carries every 數讀 figure, change and label in the text part (email.stats: full)', async () => {
    const full = await renderDigest(seed, emailContext({ email: { stats: 'full' } }));
    const digest = full;
    for (const set of seed.stats)
      for (const g of set.groups)
        for (const s of g.stats) {
          expect(digest.text).toContain(figure(s).text);
          expect(digest.text).toContain(s.label);
          if (s.change)
            expect(digest.text).toContain(
              `${s.change.value > 0 ? '+' : '-'}${Math.abs(s.change.value)}${s.change.unit}`,
            );
        }
    expect(digest.text).toContain('劉權');
    for (const a of seed.articles) expect(digest.text).toContain(`${a.url}?utm_source=newsletter`);
  });

  it('passes html-validate with the email config', async () => {
    const report = await new HtmlValidate(HTML_VALIDATE_EMAIL).validateString(
      mergeRecipient(digest, RECIPIENT).html,
    );
    const errors = report.results.flatMap((r) =>
      r.messages.map((m) => `${m.ruleId}: ${m.message} @${m.line}:${m.column}`),
    );
    expect(errors).toEqual([]);
  });

  it('leads the subject with the lead headline, no brand or date (the inbox shows those)', () => {
    expect(digest.subject).toBe('中國AI突飛猛進\u3000專利量全球居首');
    expect(digest.warnings).toEqual([]);
  });

  it('builds the subject from a configured template', async () => {
    const c = emailContext({
      email: { subject: '{{ brand.name }}｜{{ edition.dateText }}：{{ lead.title }}' },
    });
    const d = await renderDigest(seed, c);
    expect(d.subject).toBe('大公報｜2025年12月10日\u3000星期三：中國AI突飛猛進\u3000專利量全球居首');
  });
});

describe('hostile content', () => {
  it('stays literal and escaped in HTML, text and subject', async () => {
    const d = await renderDigest(hostileEdition(seed), ctx, { validation: 'strict' });
    const m = mergeRecipient(d, RECIPIENT);
    expect(m.html).not.toMatch(/<script|<img src=x|<svg|<b>粗|<i>kick|<u>劉權|onerror=alert\(1\)>/);
    expect(m.html).toContain(
      '&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;引號&#34; &#39;單&#39; {{ x }} {% raw %}x{% endraw %} 😀 𨋢𡃁啲嘅 &#37;%name&#37;%',
    );
    expect(m.html).toContain(
      '&#34;&gt;&lt;img src=x onerror=alert(1)&gt; {{ brand.name }} {% if true %}IF{% endif %} &amp;amp; 5 &lt; 6',
    );
    expect(m.html).toContain('alt="&#34;&gt;&lt;svg onload=alert(1)&gt;"');
    expect(m.html).toContain('{{ 1 | plus: 1 }}');
    expect(m.html).toContain('▼ \u22120.4%'); // a minus sign, not a hyphen (issue 11)
    // The recipient's name only where the template asked for it, not where the title said %%name%%.
    expect(m.html.split(RECIPIENT.name!).length - 1).toBe(1);
    // The text part is wrapped at 72 columns: compare with the line breaks taken out.
    const flat = (s: string) => s.replace(/\s+/g, '');
    expect(flat(m.text)).toContain(flat(HOSTILE.title.replaceAll('%%', '%\u200b%')));
    expect(flat(m.text)).toContain(flat(HOSTILE.dek));
    expect(flat(m.text)).toContain(flat(HOSTILE.label));
    expect(d.subject).toContain('{{\u3000x\u3000}}'.replace(/\u3000/g, ' '));
  });
});

describe('size guard', () => {
  it('fits a 20-story edition with its 數讀 block under maxBytes after a worst-case merge', async () => {
    const d = await renderDigest(storiesEdition(seed, 20), ctx);
    expect(d.dropped).toEqual([]);
    expect(d.bytes).toBeLessThanOrEqual(ctx.config.email.maxBytes);
    expect(Buffer.byteLength(mergeRecipient(d, RECIPIENT).html)).toBeLessThan(d.bytes);
    expect(d.text.match(/^\d+\. /gm)?.length).toBe(19);
  });

  it('drops the lowest-priority stories past the limit, and says so', async () => {
    const small = emailContext({ email: { maxBytes: 60_000 } });
    const d = await renderDigest(storiesEdition(seed, 20), small);
    expect(d.bytes).toBeLessThanOrEqual(60_000);
    expect(d.dropped.length).toBeGreaterThan(0);
    expect(d.dropped[0]).toMatch(/-19$/);
    expect(d.warnings.join('\n')).toContain('dropped');
    const kept = storiesEdition(seed, 20).articles.filter((a) => !d.dropped.includes(a.id));
    for (const a of kept) expect(d.html).toContain(`href="${a.url}?utm_source=newsletter&amp;`);
    for (const id of d.dropped)
      expect(d.html).not.toContain(`${id.replace(/-\d+$/, '')}-${id.split('-').pop()}"`);
  });

  it('fails with DIGEST_TOO_LARGE when overflow is fail', async () => {
    const strict = emailContext({ email: { maxBytes: 60_000, overflow: 'fail' } });
    const err = await renderDigest(storiesEdition(seed, 20), strict).catch((e) => e);
    expect(isBroadsheetError(err) && err.code).toBe('DIGEST_TOO_LARGE');
  });

  it('warns about a long CJK subject', async () => {
    const long = emailContext({
      email: { subject: '{{ brand.name }}{{ edition.title }}：{{ lead.title }}｜{{ lead.dek }}' },
    });
    const d = await renderDigest(seed, long);
    expect(d.warnings.join('\n')).toMatch(/subject is \d+ characters/);
  });
});

describe('simplified edition', () => {
  it('converts subject, HTML and text for a zh-Hans edition, keeping links and numbers', async () => {
    const d = await renderDigest({ ...seed, locale: 'zh-Hans' }, ctx);
    expect(d.html).toMatch(/^<!doctype html><html lang="zh-Hans"/);
    expect(d.subject).toContain('专利量全球居首');
    expect(d.fromName).toBe('大公报每日简报');
    expect(d.html).toContain('数读');
    expect(d.html).not.toContain('數讀');
    for (const a of seed.articles) expect(d.html).toContain(`href="${a.url}?utm_`);
    expect(d.text).toContain('157.6万件');
    expect(d.text).toContain('60%');
  });
});

describe('template errors', () => {
  async function brokenTemplates(file: string, from: string, to: string) {
    const root = await mkdtemp(join(tmpdir(), 'bs-tpl-'));
    await cp(join(ROOT, 'templates/email'), join(root, 'templates/email'), { recursive: true });
    const path = join(root, 'templates/email', file);
    await writeFile(path, (await readFile(path, 'utf8')).replace(from, to));
    return emailContext({}, root);
  }

  it('names the template file and line of a Liquid error', async () => {
    const c = await brokenTemplates('partials/stories.mjml', '{{ s.dek }}', '{{ s.dek | nosuchfilter }}');
    const err = await renderDigest(seed, c).catch((e) => e);
    expect(err.code).toBe('TEMPLATE_ERROR');
    expect(err.params.file).toMatch(/partials\/stories\.mjml$/);
    expect(err.params.line).toBe(21);
  });

  it('names the template file and line of an MJML validation error', async () => {
    const c = await brokenTemplates('partials/masthead.mjml', '<mj-text>', '<mj-text colour="red">');
    const err = await renderDigest(seed, c, { validation: 'strict' }).catch((e) => e);
    expect(err.code).toBe('TEMPLATE_ERROR');
    expect(err.params.file).toMatch(/partials\/masthead\.mjml$/);
    expect(err.params.line).toBe(22);
    expect(err.message).toContain('colour');
  });
});

// Issue 16: what the digest's compiles skip must not change what they write.
describe('compile shortcuts', () => {
  it('still minifies an inline <svg> a template puts in with SVGO (skipped only when there is none)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bs-tpl-'));
    await cp(join(ROOT, 'templates/email'), join(root, 'templates/email'), { recursive: true });
    const path = join(root, 'templates/email/partials/footer.mjml');
    const svg =
      '<mj-raw><svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><!-- a comment --><rect width="8" height="8" fill="#ff0000"/></svg></mj-raw>';
    await writeFile(path, `${svg}\n${await readFile(path, 'utf8')}`);
    const d = await renderDigest(seed, emailContext({}, root));
    const out = /<svg[\s\S]*?<\/svg>/.exec(d.html)?.[0];
    // SVGO's preset: colours shortened, comments gone.
    expect(out).toContain('fill="red"');
    expect(out).not.toContain('a comment');
    expect(digest.html).not.toContain('<svg');
  });

  it('compiles rendered templates seen before in the same render once (an archive page equal to its email)', async () => {
    const dir = join(ROOT, 'templates/email');
    const noStats = { ...seed, stats: [] };
    const share: CompileShare = new Map();
    const view = (stats: 'compact' | 'full') =>
      digestView(noStats, noStats.articles, { ...ctx.config, email: { ...ctx.config.email, stats } });
    const email = await compileDigest(dir, view('compact'), { validation: 'strict', share });
    const archive = await compileDigest(dir, view('full'), { validation: 'strict', text: false, share });
    expect(share.size).toBe(1);
    expect(archive.html).toBe(email.html);
    expect(archive.text).toBe('');
    // With 數讀 the two differ, and each is compiled.
    const withStats = await compileDigest(
      dir,
      digestView(seed, seed.articles, { ...ctx.config, email: { ...ctx.config.email, stats: 'full' } }),
      { validation: 'strict', share },
    );
    expect(share.size).toBe(2);
    expect(withStats.html).not.toBe(email.html);
  });
});
