// The digest in Debian Chromium at 320–1024 px, light and dark, zh-Hant-HK,
// zh-Hans and English, with images on and off, and as Gmail's apps show it
// after their colour inversion. PNGs land in tests/.tmp/ (git-ignored) for a
// human to look at — on a developer's run, or with SCREENSHOTS=1; not in CI
// (CI=true), where nobody looks at them and the full-page captures were more
// than half of this file's time. They are not checked: every measurement
// below is made either way. Network is cut: images get a local placeholder.
//
// What is measured in the page, not guessed from the HTML:
//  - no horizontal scroll at any width;
//  - on phones (≤ 480 px) every visible text is ≥ 14 px and every stand-alone
//    link is ≥ 24 px high (WCAG 2.5.8);
//  - no headline leaves a lone character on its last line;
//  - AA contrast of every visible text against its own background in light,
//    dark (prefers-color-scheme, Apple Mail/Outlook) and after an inversion
//    of lightness like Gmail's (light backgrounds dark, dark text light).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeRecipient, renderDigest } from '../../src/email/index.ts';
import { emailContext, RECIPIENT, ROOT, seedEdition, storiesEdition } from '../fixtures/email/fixtures.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { isCI, needs } from '../helpers/system.ts';

const OUT = join(ROOT, 'tests/.tmp');
const SCREENSHOTS = process.env.SCREENSHOTS === '1' || !isCI();

function placeholder(w: number, h: number): Buffer {
  const png = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) png.data.set([150, 140, 128, 255], i * 4);
  return PNG.sync.write(png);
}

type Scheme = 'light' | 'dark' | 'gmail-inverted';

async function open(browser: BrowserContext, html: string, width: number, scheme: Scheme, images = true) {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height: 900 });
  await page.emulateMedia({ colorScheme: scheme === 'dark' ? 'dark' : 'light' });
  const img = placeholder(600, 338);
  await page.route('**/*', (route) =>
    images && route.request().resourceType() === 'image'
      ? route.fulfill({ status: 200, contentType: 'image/png', body: img })
      : route.abort(),
  );
  await page.setContent(html, { waitUntil: 'load' });
  if (scheme === 'gmail-inverted') await page.evaluate(invertLikeGmail);
  return page;
}

/**
 * Gmail's apps ignore prefers-color-scheme and rewrite colours: light
 * backgrounds become dark and dark text light (lightness inverted, hue kept).
 * Applied to every element's computed colours, inline, like Gmail does.
 */
function invertLikeGmail() {
  const parse = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
  const invert = (c: string) => {
    const [r = 0, g = 0, b = 0, a = 1] = parse(c);
    if (a === 0) return c;
    // HSL lightness inverted, hue and saturation kept.
    const [R, G, B] = [r / 255, g / 255, b / 255];
    const max = Math.max(R, G, B);
    const min = Math.min(R, G, B);
    const l = (max + min) / 2;
    const shift = 1 - 2 * l; // move every channel so that lightness becomes 1 − l
    const f = (x: number) => Math.round(Math.min(1, Math.max(0, x + shift)) * 255);
    return `rgba(${f(R)}, ${f(G)}, ${f(B)}, ${a})`;
  };
  const all = [
    document.documentElement,
    ...Array.from(document.querySelectorAll<HTMLElement>('body, body *')),
  ];
  const computed = all.map((el) => {
    const s = getComputedStyle(el);
    return [el, s.color, s.backgroundColor] as const;
  });
  for (const [el, color, bg] of computed) {
    el.style.setProperty('color', invert(color), 'important');
    el.style.setProperty('background-color', invert(bg), 'important');
  }
}

/** Every visible text's contrast against the background it sits on, worst first. */
function contrasts() {
  const parse = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
  const lum = (c: string) => {
    const [r = 0, g = 0, b = 0] = parse(c).map((v, i) => (i < 3 ? v / 255 : v));
    const ch = (v: number) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
  };
  const bgOf = (el: Element | null): string => {
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      const a = parse(s.backgroundColor)[3] ?? 1;
      if (s.backgroundColor !== 'transparent' && a > 0) return s.backgroundColor;
    }
    return 'rgb(255, 255, 255)';
  };
  const out: { text: string; ratio: number; large: boolean; color: string; bg: string }[] = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const text = n.textContent?.trim() ?? '';
    const el = n.parentElement;
    if (!text || !el || text === '\u00a0') continue;
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    if (
      r.width === 0 ||
      r.height === 0 ||
      s.display === 'none' ||
      s.opacity === '0' ||
      s.visibility === 'hidden'
    )
      continue;
    if (el.closest('[style*="mso-hide"]')) continue;
    const bg = bgOf(el);
    const [a, b] = [lum(s.color), lum(bg)];
    const size = Number.parseFloat(s.fontSize);
    const bold = Number(s.fontWeight) >= 700;
    out.push({
      text: text.slice(0, 20),
      ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
      large: size >= 24 || (bold && size >= 18.66),
      color: s.color,
      bg,
    });
  }
  return out.sort((x, y) => x.ratio - y.ratio);
}

/** Visible text smaller than 14 px, and stand-alone links lower than 24 px (phones). */
function phoneSizes() {
  const small: string[] = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    const t = n.textContent?.trim() ?? '';
    if (!el || !t || t === '\u00a0' || el.closest('[style*="mso-hide"]')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const size = Number.parseFloat(getComputedStyle(el).fontSize);
    if (size < 14) small.push(`${size}px ${t.slice(0, 16)}`);
  }
  const low: string[] = [];
  for (const a of Array.from(document.querySelectorAll('a'))) {
    const r = a.getBoundingClientRect();
    if (r.width === 0) continue;
    if (r.height < 24) low.push(`${Math.round(r.height)}px ${a.textContent?.trim().slice(0, 16)}`);
  }
  return { small, low };
}

/** Headlines whose last line holds a single character (closing punctuation not counted). */
function loneLastCharacters() {
  const bad: string[] = [];
  for (const h of Array.from(document.querySelectorAll('h2 a, h3 a'))) {
    const node = h.firstChild;
    if (!node || node.nodeType !== Node.TEXT_NODE) continue;
    const text = node.textContent ?? '';
    const chars: { i: number; top: number }[] = [];
    let i = 0;
    for (const ch of text) {
      if (!/[\u2060\s」』）》”’。！？]/u.test(ch)) {
        const r = document.createRange();
        r.setStart(node, i);
        r.setEnd(node, i + ch.length);
        chars.push({ i, top: Math.round(r.getBoundingClientRect().top) });
      }
      i += ch.length;
    }
    const last = chars.at(-1);
    const prev = chars.at(-2);
    if (last && prev && last.top > prev.top) bad.push(text.replaceAll('\u2060', ''));
  }
  return bad;
}

describe.skipIf(!needs('chromium', 'chromium'))('digest in Chromium', () => {
  let browser: BrowserContext;
  const pages: Record<string, string> = {};

  beforeAll(async () => {
    const ctx = emailContext();
    const seed = await seedEdition(ctx);
    const d = await renderDigest(seed, ctx);
    pages.seed = mergeRecipient(d, RECIPIENT).html;
    pages.hans = mergeRecipient(d, { ...RECIPIENT, locale: 'zh-Hans' }).html;
    pages.en = mergeRecipient(await renderDigest({ ...seed, locale: 'en-GB' }, ctx), {
      ...RECIPIENT,
      name: 'Ann',
    }).html;
    pages.twenty = mergeRecipient(await renderDigest(storiesEdition(seed, 20), ctx), RECIPIENT).html;
    await mkdir(OUT, { recursive: true });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  const shot = async (page: Page, name: string) => {
    if (SCREENSHOTS) await page.screenshot({ path: join(OUT, `email-${name}.png`), fullPage: true });
  };

  for (const name of ['seed', 'hans', 'en', 'twenty'])
    for (const width of [320, 375, 600, 1024])
      for (const scheme of ['light', 'dark', 'gmail-inverted'] as const) {
        if (name !== 'seed' && scheme === 'gmail-inverted' && width > 375) continue;
        it(`${name} at ${width}px (${scheme}): no horizontal scroll, AA contrast${width <= 480 ? ', phone sizes' : ''}`, async () => {
          const page = await open(browser, pages[name]!, width, scheme);
          const { scrollWidth, innerWidth } = await page.evaluate(() => ({
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
          }));
          expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
          const poor = (await page.evaluate(contrasts)).filter((c) => c.ratio < (c.large ? 3 : 4.5));
          expect(poor).toEqual([]);
          if (width <= 480) {
            const { small, low } = await page.evaluate(phoneSizes);
            expect(small).toEqual([]);
            expect(low).toEqual([]);
          }
          if (width <= 375 && name !== 'en') expect(await page.evaluate(loneLastCharacters)).toEqual([]);
          await shot(page, `${name}-${width}-${scheme}`);
          await page.close();
        });
      }

  it('reads with images off: the hero alt text is short and nothing overflows', async () => {
    for (const width of [375, 600]) {
      const page = await open(browser, pages.seed!, width, 'light', false);
      const { scrollWidth, innerWidth, alts } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        alts: Array.from(document.querySelectorAll('img')).map((i) => i.alt),
      }));
      expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
      for (const a of alts) expect([...a].length).toBeLessThanOrEqual(24);
      await shot(page, `seed-${width}-images-off`);
      await page.close();
    }
  });
});
