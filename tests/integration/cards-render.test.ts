import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { CARD_FORMATS, CARD_KINDS, type CardKind } from '../../src/cards/config.ts';
import { FORMATS } from '../../src/cards/formats.ts';
import { cropPortrait } from '../../src/cards/photos/crop.ts';
import { type CardJob, cardSvg, renderCard } from '../../src/cards/render.ts';
import { BroadsheetError } from '../../src/errors/index.ts';
import { writeFileAtomicSync } from '../../src/util/atomic.ts';
import { fixtureDir, fixtureItems } from '../fixtures/cards/edition.ts';

// Goldens: tests/fixtures/cards/<kind>-<format>.png, one per card kind × format.
// A missing golden FAILS (it is never written silently). After an intended
// design change, regenerate them with
//   UPDATE_GOLDENS=1 npx vitest run tests/integration/cards-render.test.ts
// and LOOK at every changed PNG before committing it.
//
// Threshold: pixelmatch's per-pixel colour threshold 0.1 (anti-aliasing
// noise), and at most MAX_DIFF_PIXELS differing pixels per card. The goldens
// are drawn by the pinned satori/resvg/sharp of package-lock.json with bundled
// fonts, so a card redrawn unchanged differs by 0 px here; one changed digit
// of the footer date (10日 → 11日) differs by 57 px and a one-character byline
// change by 200 (measured; asserted below to exceed twice the tolerance), so both fail.
const MAX_DIFF_PIXELS = 25;
const UPDATE = Boolean(process.env.UPDATE_GOLDENS || process.env.UPDATE_GOLDEN);

const { ctx, items, brand } = fixtureItems();

function jobFor(kind: CardKind, format: CardJob['format'] = 'og', pick = 0): CardJob {
  const item = items.filter((i) => i.kind === kind)[pick]!;
  return {
    id: `${item.itemId}/${format}`,
    kind,
    format,
    data: item.data,
    templatesDir: ctx.paths.templates,
    brand,
    pngCompression: 1,
  };
}

function articleJob(title: string, format: CardJob['format'] = 'og'): CardJob {
  const job = jobFor('article', format);
  return {
    ...job,
    id: `test/${format}`,
    data: { ...(job.data as object), title, photo: undefined } as CardJob['data'],
  };
}

const decode = (png: Buffer) => PNG.sync.read(png);

const decodeGolden = (file: string) => decode(readFileSync(file));
const differing = (a: PNG, b: PNG) =>
  pixelmatch(a.data, b.data, undefined, a.width, a.height, { threshold: 0.1 });
// The statset golden uses the bar-chart group (智能工廠); the figures variant is checked for size below.
const picks: Record<CardKind, number> = { article: 0, stat: 0, statset: 1, quote: 0 };

describe('golden PNG per card kind × format', () => {
  for (const kind of CARD_KINDS)
    for (const format of CARD_FORMATS)
      it(`${kind} ${format}`, async () => {
        const { png } = await renderCard(jobFor(kind, format, picks[kind]));
        const golden = join(fixtureDir, `${kind}-${format}.png`);
        if (UPDATE) writeFileAtomicSync(golden, png);
        expect(
          existsSync(golden),
          `no golden ${golden}: run UPDATE_GOLDENS=1 npx vitest run tests/integration/cards-render.test.ts and look at it`,
        ).toBe(true);
        const a = decode(png);
        const b = decodeGolden(golden);
        expect([a.width, a.height]).toEqual([b.width, b.height]);
        expect(differing(a, b)).toBeLessThanOrEqual(MAX_DIFF_PIXELS);
      });

  // The quote card with its speaker's portrait (tests/fixtures/cards/content/images/speaker.jpg,
  // cropped as a build does): a golden per format as well.
  for (const format of CARD_FORMATS)
    it(`quote with portrait ${format}`, async () => {
      const job = jobFor('quote', format);
      const src = await cropPortrait(readFileSync(join(fixtureDir, 'content/images/speaker.jpg')), {
        x: 0.5,
        y: 0.45,
      });
      const data = { ...(job.data as object), portrait: { src, alt: '頭像', credit: 'Broadsheet 示意圖' } };
      const { png } = await renderCard({ ...job, data: data as CardJob['data'] });
      const golden = join(fixtureDir, `quote-with-portrait-${format}.png`);
      if (UPDATE) writeFileAtomicSync(golden, png);
      expect(existsSync(golden), `no golden ${golden}: run UPDATE_GOLDENS=1 (see the top of this file)`).toBe(
        true,
      );
      expect(differing(decode(png), decodeGolden(golden))).toBeLessThanOrEqual(MAX_DIFF_PIXELS);
    });

  it('is tight enough that a changed date or byline fails', async () => {
    const job = jobFor('article', 'og');
    const b = decodeGolden(join(fixtureDir, 'article-og.png'));
    const data = job.data as { date: string; byline: string };
    const date = decode(
      (await renderCard({ ...job, data: { ...data, date: '2025年12月11日' } as CardJob['data'] })).png,
    );
    expect(differing(date, b)).toBeGreaterThan(MAX_DIFF_PIXELS * 2);
    const byline = decode(
      (await renderCard({ ...job, data: { ...data, byline: '大公報　郭翰林' } as CardJob['data'] })).png,
    );
    expect(differing(byline, b)).toBeGreaterThan(MAX_DIFF_PIXELS * 2);
  });
});

describe('formats', () => {
  for (const format of CARD_FORMATS) {
    it(`${format} is ${FORMATS[format].width}×${FORMATS[format].height} for every kind`, async () => {
      for (const kind of CARD_KINDS) {
        const { png, width, height } = await renderCard(jobFor(kind, format));
        const img = decode(png);
        expect([img.width, img.height, width, height]).toEqual([
          FORMATS[format].width,
          FORMATS[format].height,
          FORMATS[format].width,
          FORMATS[format].height,
        ]);
      }
    });
  }
});

describe('glyphs', () => {
  it('a character no font has is an error naming the character and the card', async () => {
    const job = articleJob('爪哇文字ꦄ不在字型中');
    const err = await renderCard(job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BroadsheetError);
    expect((err as BroadsheetError).code).toBe('CARD_MISSING_GLYPH');
    expect((err as BroadsheetError).params).toMatchObject({
      char: 'ꦄ',
      codePoint: 'U+A984',
      card: 'test/og',
    });
    expect((err as Error).message).toContain('U+A984');
    expect((err as Error).message).toContain('test/og');
  });

  it('HKSCS 𨋢 and 啲 are drawn from the font (distinct outlines, not tofu)', async () => {
    const one = await cardSvg(articleJob('𨋢'));
    const two = await cardSvg(articleJob('啲'));
    const headlinePath = (svg: string) => {
      // The headline is the only 1-character text at 76px in this card: find the biggest path that differs.
      const paths = Array.from(svg.matchAll(/<path fill="#1a1a1a" d="([^"]+)"/g), (m) => m[1]!);
      return paths.sort((a, b) => b.length - a.length)[0]!;
    };
    const a = headlinePath(one);
    const b = headlinePath(two);
    expect(a.length).toBeGreaterThan(200); // real outlines, many curves
    expect(a).not.toBe(b);
  });

  it('emoji (ZWJ family, flag, keycap) are drawn as twemoji images', async () => {
    const svg = await cardSvg(articleJob('港人週末 👨‍👩‍👧 🇭🇰 1️⃣ 出遊😀'));
    expect((svg.match(/<image /g) ?? []).length).toBeGreaterThanOrEqual(4);
    const { png } = await renderCard(articleJob('港人週末 👨‍👩‍👧 🇭🇰 1️⃣ 出遊😀'));
    const img = decode(png);
    // Twemoji's yellow (#FFCC4D) appears somewhere: the emoji were painted.
    let yellow = 0;
    for (let i = 0; i < img.data.length; i += 4) {
      if (img.data[i]! > 240 && img.data[i + 1]! > 190 && img.data[i + 1]! < 215 && img.data[i + 2]! < 110)
        yellow++;
    }
    expect(yellow).toBeGreaterThan(100);
  });
});

describe('hostile text', () => {
  it('<script> is drawn literally, never interpreted', async () => {
    const hostile = '<script>alert("x")</script> & </svg><svg onload=alert(1)>';
    const svg = await cardSvg(articleJob(hostile), { embedFont: false });
    expect(svg).not.toMatch(/<script/i);
    expect(svg).not.toMatch(/<svg onload/i);
    // Satori escapes each text run; read the runs back and find the words whole.
    const text = Array.from(svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g), (m) => m[1]!)
      .join('')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&');
    expect(text).toContain('<script>alert("x")</script>');
    expect(svg).toContain('&lt;');
    const { png } = await renderCard(articleJob(hostile));
    expect(decode(png).width).toBe(1200);
  });
});
