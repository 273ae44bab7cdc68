// What the digest says and in what order: subject and preheader, sections,
// the quote with its story, compact 數讀, UTM links, the text part's order.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Edition } from '../../src/edition/model.ts';
import { type DigestResult, mergeRecipient, renderDigest } from '../../src/email/index.ts';
import { textWidth } from '../../src/email/text.ts';
import { emailContext, RECIPIENT, seedEdition, storiesEdition } from '../fixtures/email/fixtures.ts';

const ctx = emailContext();
let seed: Edition;
let digest: DigestResult;

beforeAll(async () => {
  seed = await seedEdition(ctx);
  digest = await renderDigest(seed, ctx, { validation: 'strict' });
});

const px = (style: string) => Number(/font-size:(\d+)px/.exec(style)?.[1]);

describe('subject and preheader', () => {
  it('adds the second headline when both fit subjectWarnAt, and the preheader carries the rest', async () => {
    const roomy = await renderDigest(seed, emailContext({ email: { subjectWarnAt: 60 } }));
    const [lead, second, ...rest] = seed.articles;
    expect(roomy.subject).toBe(`${lead!.title}｜${second!.title}`.replace(/ /g, '\u3000'));
    const pre = /mso-hide:all">([^<&]*)/.exec(roomy.html)![1]!;
    expect(pre.startsWith(rest[0]!.title.split(' ')[0]!)).toBe(true);
    expect(pre).not.toContain(second!.title.split(' ')[0]);
    // At the default 40 only the lead fits, and the preheader starts with the second story.
    expect(digest.subject).toBe(lead!.title.replace(/ /g, '\u3000'));
    expect(/mso-hide:all">([^<&]*)/.exec(digest.html)![1]).toContain(second!.title.split('：')[0]);
  });

  it('renders a configured preheader template', async () => {
    const d = await renderDigest(
      seed,
      emailContext({ email: { preheader: '今日{{ stories.size }}則要聞' } }),
    );
    expect(d.html).toContain('mso-hide:all">今日3則要聞');
  });
});

describe('stories', () => {
  it('groups the stories by section in the configured order, and numbers the text part in that order', async () => {
    const d = await renderDigest(seed, emailContext({ email: { sections: ['科技', '中國'] } }));
    const order = [...d.html.matchAll(/<h2 class="k"[^>]*>([^<]+)<\/h2>/g)].map((m) => m[1]);
    expect(order).toEqual(['科技', '中國', '要聞']);
    const text = d.text;
    expect(text.indexOf('== 科技 ==')).toBeLessThan(text.indexOf('== 中國 =='));
    expect(text.indexOf('== 中國 ==')).toBeLessThan(text.indexOf('== 要聞 =='));
    expect(text).toMatch(/== 科技 ==\n\n1\. 數據治理大模型/);
  });

  it('shows the quote once, with its own story, without repeating the story or its label', () => {
    const quoted = seed.articles.find((a) => a.quote)!;
    const html = digest.html;
    const links = html.split(`href="${quoted.url}?`).length - 1;
    expect(links).toBe(1); // the headline only: no second link to the same article
    expect(html.split('專家解讀').length - 1).toBe(1); // the story's kicker says it already
    // The quote comes right after its story's meta line, before the next section.
    const at = html.indexOf(quoted.quote!.text.slice(0, 8));
    expect(at).toBeGreaterThan(html.indexOf(quoted.title.slice(0, 8)));
    expect(at).toBeLessThan(html.indexOf('>科技<'));
  });

  it('adds UTM parameters to every article link, and none when utm.enabled is false', async () => {
    for (const a of seed.articles)
      expect(digest.html).toContain(
        `href="${a.url}?utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=${seed.id}"`,
      );
    const off = await renderDigest(seed, emailContext({ email: { utm: { enabled: false } } }));
    expect(off.html).not.toContain('utm_');
    expect(off.text).not.toContain('utm_');
    const own = await renderDigest(seed, emailContext({ email: { utm: { source: 'bs', campaign: 'am' } } }));
    expect(own.html).toContain('utm_source=bs&amp;utm_medium=email&amp;utm_campaign=am');
  });

  it('shows reading time only when email.readingTime is on', async () => {
    expect(digest.text).not.toMatch(/約\d+分鐘/);
    const d = await renderDigest(seed, emailContext({ email: { readingTime: true } }));
    expect(d.text).toMatch(/｜約\d+分鐘\n/);
    expect(d.html.replaceAll('\u2060', '')).toMatch(/約\d+分鐘/);
  });

  it('gives the hero a short alt text, not the whole caption', () => {
    const alt = /<img alt="([^"]*)"/.exec(digest.html)![1]!;
    expect([...alt].length).toBeLessThanOrEqual(24);
    expect(seed.articles[0]!.image!.alt.startsWith(alt.replace(/…$/, ''))).toBe(true);
  });
});

describe('數讀', () => {
  it('is compact by default: each set at most statsMax headline figures and a link to the full set', () => {
    const sets = digest.html.split('數讀').length - 1;
    expect(sets).toBeGreaterThanOrEqual(2);
    const figures = digest.html.match(/class="sn"/g)!.length;
    expect(figures).toBeLessThanOrEqual(seed.stats.length * ctx.config.email.statsMax);
    for (const s of seed.stats)
      expect(mergeRecipient(digest, RECIPIENT).html).toContain(`${RECIPIENT.viewOnlineUrl}#${s.id}"`);
  });

  it('keeps today’s layout with email.stats: full', async () => {
    const full = await renderDigest(seed, emailContext({ email: { stats: 'full' } }));
    const all = seed.stats.reduce((n, s) => n + s.groups.reduce((m, g) => m + g.stats.length, 0), 0);
    expect(full.html.match(/class="sn"/g)!.length).toBe(all);
    expect(full.html).not.toContain('查看完整數讀');
  });

  it('never sets a figure larger than the lead headline, on desktop or phone', () => {
    const lead = px(/<h2 class="lt"[^>]*style="([^"]*)"/.exec(digest.html)![1]!);
    for (const m of digest.html.matchAll(/class="sn" style="([^"]*)"/g)) expect(px(m[1]!)).toBeLessThan(lead);
    const css = /@media only screen and \(max-width: ?479px\)\{\.px[^@]*/.exec(digest.html)![0];
    const phone = (cls: string) => Number(new RegExp(`\\.${cls}\\{font-size:(\\d+)px`).exec(css)![1]);
    expect(phone('sn')).toBeLessThan(phone('lt'));
  });
});

describe('text part', () => {
  it('follows the HTML order, wraps at 72 columns and never breaks a URL', async () => {
    const d = await renderDigest(storiesEdition(seed, 20), ctx);
    const m = mergeRecipient(d, RECIPIENT);
    for (const line of m.text.split('\n'))
      if (!/^(> )?https?:\/\//.test(line)) expect(textWidth(line), line).toBeLessThanOrEqual(72);
    for (const a of storiesEdition(seed, 20).articles)
      expect(m.text).toMatch(new RegExp(`^${a.url}\\?utm_\\S+$`, 'm'));
    const htmlOrder = [
      ...d.html.matchAll(
        /<h2 class="k"[^>]*>([^<]+)<\/h2>|<h2 id="[^"]*" style[^>]*><span class="k"[^>]*>數讀<\/span>([^<]+)/g,
      ),
    ].map((x) => x[1] ?? `數讀${x[2]}`);
    const textOrder = [...d.text.matchAll(/^== (.+) ==$/gm)].map((x) => x[1]).slice(1);
    expect(textOrder).toEqual(htmlOrder);
    expect(d.text.indexOf('== 頭條')).toBeLessThan(d.text.indexOf(`== ${htmlOrder[0]} ==`));
  });
});
