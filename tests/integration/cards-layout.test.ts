import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pixelmatch from 'pixelmatch';
import { afterAll, describe, expect, it } from 'vitest';
import { CARD_FORMATS, type CardFormat } from '../../src/cards/config.ts';
import { FORMATS } from '../../src/cards/formats.ts';
import { renderCards } from '../../src/cards/index.ts';
import type { ArticleCardData } from '../../src/cards/layout-api.ts';
import { inkBoxes } from '../../src/cards/overflow.ts';
import { type CardJob, cardPixels, cardSvg } from '../../src/cards/render.ts';
import { BroadsheetError } from '../../src/errors/index.ts';
import { article, context, edition, repoRoot } from '../fixtures/cards/edition.ts';

// Real headlines that broke the cards (issue 11), drawn in every format: they
// render, every piece of text is inside the safe area, the footer stays on the
// card, and the two renderers agree on them.

const FAMILY = '👨‍👩‍👧‍👦';
const MODEL = 'Qwen2.5-VL-72B-Instruct-AWQ-Int4';
const brand = {
  name: '大公報',
  url: 'https://news.example.com/',
  colors: { primary: '#a4161a', ink: '#1a1a1a', muted: '#5c5c5c', paper: '#ffffff', accent: '#c8102e' },
};
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function job(
  format: CardFormat,
  data: Partial<ArticleCardData>,
  templatesDir = resolve(repoRoot, 'templates'),
): CardJob {
  return {
    id: `stress/${format}`,
    kind: 'article',
    format,
    data: {
      kicker: '專家解讀',
      title: `港人週末${FAMILY}出遊 阿里發布${MODEL}`,
      dek: '中國電子信息產業發展研究院副總工程師劉權認為，國產開源模型在全球前10中佔據9席，中國正從「技術追趕者」轉變為「規則定義者」。',
      section: '科技',
      byline: '大公報　郭瀚林',
      date: '2025年11月10日',
      ...data,
    },
    templatesDir,
    brand,
    pngCompression: 1,
  };
}

const pad = (format: CardFormat) =>
  FORMATS[format].shape === 'banner'
    ? Math.round(40 * FORMATS[format].scale)
    : FORMATS[format].shape === 'wide'
      ? Math.round(56 * FORMATS[format].scale)
      : Math.round(64 * FORMATS[format].scale);

describe('a headline with a family emoji and a model name, in every format', () => {
  for (const format of CARD_FORMATS)
    it(format, async () => {
      const svg = await cardSvg(job(format, {}), { embedFont: false });
      const boxes = inkBoxes(svg);
      const p = pad(format);
      const { width, height } = FORMATS[format];
      for (const b of boxes) {
        expect(b.x0, b.text).toBeGreaterThanOrEqual(p - 1.5);
        expect(b.x1, b.text).toBeLessThanOrEqual(width - p + 1.5);
        expect(b.y1, b.text).toBeLessThanOrEqual(height - p + 1.5);
      }
      // The family is drawn as one emoji image, not eleven code units.
      expect(boxes.filter((b) => b.text === '(emoji)')).toHaveLength(1);
      // The model name is all there, in order (broken only at its own hyphens if at all).
      const text = boxes.map((b) => b.text).join('');
      expect(text.replace(/\s+/g, '')).toContain(MODEL);
      // The footer's date is on one line (the runs on the footer's baseline), whole.
      if (format !== 'wechat') {
        const lines = new Map<number, string>();
        for (const b of boxes) lines.set(Math.round(b.y0), (lines.get(Math.round(b.y0)) ?? '') + b.text);
        expect([...lines.values()].some((l) => l.includes('2025年11月10日'))).toBe(true);
      }
    });
});

describe('footer reservation', () => {
  it('og: kicker + three-line headline + dek leave the footer where it belongs', async () => {
    const title =
      '中國電子信息產業發展研究院副總工程師劉權認為中國正從技術追趕者轉變為規則定義者和生態構建者';
    const svg = await cardSvg(job('og', { title }), { embedFont: false });
    const boxes = inkBoxes(svg);
    const footer = boxes.find((b) => b.text.includes('news.example.com'))!;
    expect(footer).toBeDefined();
    expect(footer.y1).toBeLessThanOrEqual(630 - 56 + 1.5);
    // Nothing else reaches into the footer's band.
    for (const b of boxes)
      if (b !== footer && b.y1 > footer.y0 - 20) expect(b.y0, b.text).toBeGreaterThan(footer.y0 - 30);
  });
});

describe('footers', () => {
  it('a long byline drops names and ends in 等; names and the date are never cut', async () => {
    const byline = '大公報　記者陳大文、Antidisestablishmentarianism Correspondent、李小明';
    for (const format of ['og', 'portrait'] as const) {
      const svg = await cardSvg(job(format, { byline }), { embedFont: false });
      const text = inkBoxes(svg)
        .map((b) => b.text)
        .join('');
      expect(text).toContain('記者陳大文等');
      expect(text).toContain('2025年11月10日');
      expect(text).not.toContain('Antidisestablishmentarianism…');
    }
  });
});

describe('no silent overflow', () => {
  it('text that cannot fit even after squeezing fails with CARD_OVERFLOW naming card, format and text', async () => {
    // A theme whose footer type is far too big for the card: nothing can clamp it into place.
    const dir = mkdtempSync(join(tmpdir(), 'cards-theme-'));
    dirs.push(dir);
    cpSync(resolve(repoRoot, 'templates'), dir, { recursive: true });
    const themeFile = join(dir, 'cards', 'theme.json');
    const theme = JSON.parse(readFileSync(themeFile, 'utf8'));
    theme.type.meta = 400;
    writeFileSync(themeFile, JSON.stringify(theme));
    const err = await cardSvg(job('og', {}, dir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BroadsheetError);
    expect((err as BroadsheetError).code).toBe('CARD_OVERFLOW');
    expect((err as BroadsheetError).params).toMatchObject({ card: 'stress/og', format: 'og' });
    expect(String((err as BroadsheetError<'CARD_OVERFLOW'>).params.text).length).toBeGreaterThan(0);
  });
});

describe('renderers agree on the stress cards', () => {
  for (const format of CARD_FORMATS)
    it(format, async () => {
      const j = job(format, {});
      const a = await cardPixels({ ...j, renderer: 'resvg' });
      const b = await cardPixels({ ...j, renderer: 'glyphcache' });
      const diff = pixelmatch(a.pixels, b.pixels, undefined, a.width, a.height, { threshold: 0.1 });
      // Looser than the fixture edition's 0.003: a bold Latin model name at headline
      // size is placed a fraction of a pixel apart by harfbuzz (glyph cache) and by
      // satori's own outlines (resvg): measured 0.0043 at og/x/wechat.
      expect(diff / (a.width * a.height)).toBeLessThan(0.006);
    });
});

describe('mainland simplified characters', () => {
  it('are drawn from the fallback face (Noto Sans SC), not refused; both renderers agree', async () => {
    const j = job('og', {
      title: '刘强东：我们这代人说到做到 杨振宁逝世',
      dek: '华为发布新款芯片，腾讯、字节跳动跟进。',
    });
    const svg = await cardSvg(j, { embedFont: false });
    expect(
      inkBoxes(svg)
        .map((b) => b.text)
        .join(''),
    ).toContain('我们这代人');
    const a = await cardPixels({ ...j, renderer: 'resvg' });
    const b = await cardPixels({ ...j, renderer: 'glyphcache' });
    const diff = pixelmatch(a.pixels, b.pixels, undefined, a.width, a.height, { threshold: 0.1 });
    expect(diff / (a.width * a.height)).toBeLessThan(0.003);
  });
});

describe('missing glyphs', () => {
  it('get CARD_MISSING_GLYPH from the worker pool, as in-process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cards-pool-'));
    dirs.push(dir);
    const bad = edition({
      articles: [article({ id: 'bad-glyph', title: '爪哇文字ꦄ出現在標題' })],
      stats: [],
    });
    const pooled = await renderCards(
      bad,
      context({ formats: ['og', 'square'], kinds: ['article'], workers: 2, poolThreshold: 1 }),
      {
        editionDir: dir,
        progress: false,
      },
    );
    expect(pooled.failures).toHaveLength(2);
    for (const f of pooled.failures)
      expect(f).toMatchObject({ itemId: 'bad-glyph', code: 'CARD_MISSING_GLYPH' });
  }, 60_000);
});
