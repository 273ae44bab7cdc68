import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARD_FORMATS, type CardFormat } from '../../src/cards/config.ts';
import { FORMATS } from '../../src/cards/formats.ts';
import { renderCards } from '../../src/cards/index.ts';
import { editionItems } from '../../src/cards/items.ts';
import type { QuoteCardData } from '../../src/cards/layout-api.ts';
import { cropPortrait } from '../../src/cards/photos/crop.ts';
import { type CardJob, cardPixels } from '../../src/cards/render.ts';
import { context, edition, fixtureDir, quoteArticle, repoRoot } from '../fixtures/cards/edition.ts';
import { testContext } from '../helpers/context.ts';

// Quote cards with the speaker's portrait (issue 12): drawn in every format,
// round, inside the safe area (outside the story's platform zones; on WeChat
// in the centre square or a wing, never across the crop's edge); a portrait
// that cannot be had gives the card without it and a CARD_PHOTO_FETCH warning.

const ctx = context();
const brand = { name: ctx.config.brand.name, url: ctx.config.brand.url, colors: ctx.config.brand.colors };
const quote = editionItems(edition(), {
  kinds: ['quote'],
  contentDir: ctx.paths.content,
  brandUrl: ctx.config.brand.url,
})[0]!.data as QuoteCardData;

let green = '';
const dirs: string[] = [];
let server: Server;
let base = '';

beforeAll(async () => {
  // A flat pure green the cards never use: every green pixel is the portrait's.
  const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#00ff00' } })
    .png()
    .toBuffer();
  green = await cropPortrait(png);
  server = createServer((req, res) => {
    if (req.url === '/face.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'portrait-'));
  dirs.push(d);
  return d;
};

const job = (format: CardFormat, data: QuoteCardData): CardJob => ({
  id: `q/${format}`,
  kind: 'quote',
  format,
  data,
  templatesDir: ctx.paths.templates,
  brand,
  pngCompression: 1,
});

/** The portrait's pixels: count and bounding box of the pure green, and whether the box's corners are paper. */
async function portraitInk(j: CardJob) {
  const { pixels, width } = await cardPixels(j);
  const isGreen = (i: number) => pixels[i]! < 60 && pixels[i + 1]! > 200 && pixels[i + 2]! < 60;
  let n = 0;
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i < pixels.length; i += 4) {
    if (!isGreen(i)) continue;
    const x = (i / 4) % width;
    const y = Math.floor(i / 4 / width);
    n++;
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  const at = (x: number, y: number) => (y * width + x) * 4;
  const cornersClear = n > 0 && [at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1)].every((i) => !isGreen(i));
  return { n, x0, y0, x1, y1, cornersClear };
}

/** The page margin of each shape (templates/cards/_frame.ts pagePadding). */
const pad = (f: CardFormat) =>
  Math.round((FORMATS[f].shape === 'banner' ? 40 : FORMATS[f].shape === 'wide' ? 56 : 64) * FORMATS[f].scale);

describe('quote card portrait, every format', () => {
  for (const format of CARD_FORMATS)
    it(`${format}: drawn round inside the safe area; without one the card has no portrait ink`, async () => {
      const { width, height } = FORMATS[format];
      const without = await portraitInk(job(format, quote));
      expect(without.n).toBe(0);
      const p = await portraitInk(
        job(format, { ...quote, portrait: { src: green, alt: '頭像', credit: '示意圖' } }),
      );
      // A circle of at least ~40 px across, with paper at its bounding box's corners.
      expect(p.n).toBeGreaterThan(1200);
      expect(p.cornersClear).toBe(true);
      expect(p.x1 - p.x0).toBeGreaterThan(38);
      expect(Math.abs(p.x1 - p.x0 - (p.y1 - p.y0))).toBeLessThanOrEqual(2);
      const m = pad(format);
      expect(p.x0).toBeGreaterThanOrEqual(m);
      expect(p.y0).toBeGreaterThanOrEqual(m);
      expect(p.x1).toBeLessThan(width - m);
      expect(p.y1).toBeLessThan(height - m);
      if (format === 'story') {
        // Instagram/Facebook cover the top 250 and bottom 340 px.
        expect(p.y0).toBeGreaterThanOrEqual(250);
        expect(p.y1).toBeLessThan(1920 - 340);
      }
      if (format === 'wechat') {
        // Wholly in the centre square (x 258–641) or wholly in a wing, never across the crop's edge.
        const c0 = (900 - 383) / 2;
        const c1 = c0 + 383;
        const inCentre = p.x0 >= c0 && p.x1 < c1;
        const inWing = p.x1 < c0 || p.x0 >= c1;
        expect(inCentre || inWing).toBe(true);
        // The sample's quote leaves room for it beside the name.
        expect(inCentre).toBe(true);
      }
    });

  it('wechat: where the portrait would cost the words size or lines, it goes to the right wing', async () => {
    // The sample theme's quote sizes always leave room; a theme with larger quote type does not.
    // Layouts import ../../src: a link beside the copy keeps that path working.
    const root = tmp();
    const templates = join(root, 'templates');
    cpSync(ctx.paths.templates, templates, { recursive: true });
    symlinkSync(join(repoRoot, 'src'), join(root, 'src'));
    const file = join(templates, 'cards', 'theme.json');
    const theme = JSON.parse(readFileSync(file, 'utf8'));
    theme.type.quoteMax = 70;
    theme.type.label = 80;
    writeFileSync(file, JSON.stringify(theme));
    const short = {
      ...quote,
      text: '數據要素市場化是下一個十年的主線。',
      portrait: { src: green, alt: '頭像' },
    };
    const p = await portraitInk({ ...job('wechat', short), templatesDir: templates });
    expect(p.n).toBeGreaterThan(1200);
    expect(p.cornersClear).toBe(true);
    expect(p.x0).toBeGreaterThanOrEqual((900 - 383) / 2 + 383);
    expect(p.x1).toBeLessThan(900 - pad('wechat'));
    expect(p.y0).toBeGreaterThanOrEqual(pad('wechat'));
  });
});

describe('quote portrait in a build', () => {
  const build = async (portraitSrc: string | undefined, out: string) => {
    const logs: Record<string, unknown>[] = [];
    const c = testContext({
      root: repoRoot,
      config: {
        cards: {
          formats: ['og', 'wechat'],
          kinds: ['quote'],
          workers: 0,
          contactSheets: false,
          // Nothing here stalls (the down host refuses at once): a bound long enough that a
          // loaded CI machine never times out the portrait that must arrive.
          photos: { allowHttpLoopback: true, timeoutMs: 10_000 },
        },
      },
      paths: { content: join(fixtureDir, 'content'), out },
    });
    c.logger = pino({ level: 'info' }, { write: (l: string) => logs.push(JSON.parse(l)) });
    const a = quoteArticle();
    const withPortrait = portraitSrc
      ? { ...a, quote: { ...a.quote!, portrait: { src: portraitSrc, alt: '頭像', credit: '示意圖' } } }
      : a;
    const ed = edition({ articles: [withPortrait], stats: [] });
    const r = await renderCards(ed, c, { editionDir: join(out, ed.id), progress: false });
    return { r, logs };
  };

  it('a fetched portrait is part of the inputHash; a down host gives the card without it and a warning', async () => {
    const plain = await build(undefined, tmp());
    const served = await build(`${base}/face.png`, tmp());
    expect(served.r.failures).toEqual([]);
    expect(served.logs.filter((l) => l.code === 'CARD_PHOTO_FETCH')).toEqual([]);
    // The portrait's bytes are in the card data, so the hash (and the picture) differ from the plain card.
    for (const i of [0, 1]) {
      expect(served.r.cards[i]!.inputHash).not.toBe(plain.r.cards[i]!.inputHash);
      expect(served.r.cards[i]!.sha256).not.toBe(plain.r.cards[i]!.sha256);
    }

    // A host that is down: a closed loopback port.
    const down = createServer();
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    const port = (down.address() as AddressInfo).port;
    await new Promise((r) => down.close(r));
    const url = `http://127.0.0.1:${port}/face.jpg`;
    const failed = await build(url, tmp());
    expect(failed.r.failures).toEqual([]);
    expect(failed.r.cards.map((c) => c.id)).toEqual([
      'china-ai-rule-definer-quote/og',
      'china-ai-rule-definer-quote/wechat',
    ]);
    // The same card as one never given a portrait: same inputs, same pixels.
    expect(failed.r.cards.map((c) => [c.inputHash, c.sha256])).toEqual(
      plain.r.cards.map((c) => [c.inputHash, c.sha256]),
    );
    const warns = failed.logs.filter((l) => l.code === 'CARD_PHOTO_FETCH');
    expect(warns).toHaveLength(1); // fetched once for the item, not once per format
    expect(warns[0]).toMatchObject({ url, article: 'china-ai-rule-definer', level: 40 });
  }, 120_000);
});
