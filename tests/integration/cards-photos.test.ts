import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCards } from '../../src/cards/index.ts';
import { cropPhoto } from '../../src/cards/photos/crop.ts';
import { fetchPhoto, type PhotoFetchOptions } from '../../src/cards/photos/fetch.ts';
import { article, edition, fixtureDir, repoRoot } from '../fixtures/cards/edition.ts';
import { testContext } from '../helpers/context.ts';

// Remote card photos against a real loopback image server (node:http on
// 127.0.0.1): slow, huge, wrong-typed, redirecting, down. http://127.0.0.1 is
// allowed only through the test-only flag allowHttpLoopback (cards.photos);
// production fetches https only.

let server: Server;
let base = '';
const hits: Record<string, number> = {};
let jpeg: Buffer;
const dirs: string[] = [];

beforeAll(async () => {
  jpeg = await sharp({ create: { width: 64, height: 40, channels: 3, background: '#a4161a' } })
    .jpeg()
    .toBuffer();
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits[path] = (hits[path] ?? 0) + 1;
    if (path === '/ok.jpg') {
      if (req.headers['if-none-match'] === '"v1"') return res.writeHead(304).end();
      return res.writeHead(200, { 'content-type': 'image/jpeg', etag: '"v1"' }).end(jpeg);
    }
    if (path === '/slow.jpg') return; // never answers
    if (path === '/huge.jpg') {
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      const chunk = Buffer.alloc(64 * 1024);
      let n = 0;
      const more = () => {
        while (n++ < 100 && res.write(chunk));
        if (n < 100) res.once('drain', more);
        else res.end();
      };
      return more();
    }
    if (path === '/page.jpg') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
    if (path === '/moved.jpg') return res.writeHead(302, { location: 'http://localhost/ok.jpg' }).end();
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

function opts(over: Partial<PhotoFetchOptions> = {}): PhotoFetchOptions {
  const cacheDir = mkdtempSync(join(tmpdir(), 'photos-'));
  dirs.push(cacheDir);
  return {
    cacheDir,
    // Generous: a loaded CI machine must never time out a loopback answer. The
    // timeout case passes its own short one (that server never answers).
    timeoutMs: 10_000,
    maxBytes: 1024 * 1024,
    failureTtlMs: 60_000,
    allowHttpLoopback: true,
    ...over,
  };
}

describe('remote photos', () => {
  it('are fetched, cached, and revalidated with the ETag', async () => {
    const o = opts();
    const a = await fetchPhoto(`${base}/ok.jpg`, o);
    expect('bytes' in a && a.bytes.equals(jpeg)).toBe(true);
    const b = await fetchPhoto(`${base}/ok.jpg`, o);
    expect('bytes' in b && b.bytes.equals(jpeg)).toBe(true);
    expect(hits['/ok.jpg']).toBe(2); // the second answer was a 304 served from the cache
  });

  it('http is refused without the test-only flag', async () => {
    const r = await fetchPhoto(`${base}/ok.jpg`, opts({ allowHttpLoopback: false }));
    expect(r).toMatchObject({ error: expect.stringContaining('https') });
  });

  it('a slow host costs one timeout per URL: the failure is remembered', async () => {
    const o = opts({ timeoutMs: 300 });
    const r = await fetchPhoto(`${base}/slow.jpg`, o);
    expect(r).toMatchObject({ error: expect.stringContaining('300 ms') });
    const again = await fetchPhoto(`${base}/slow.jpg`, o);
    expect(again).toMatchObject({ error: expect.stringContaining('ago') });
    expect(hits['/slow.jpg']).toBe(1);
    // After the failure's time is up, it is tried again.
    const later = await fetchPhoto(`${base}/slow.jpg`, { ...o, now: () => Date.now() + 120_000 });
    expect('error' in later).toBe(true);
    expect(hits['/slow.jpg']).toBe(2);
  });

  it('a huge body, a wrong content-type, a redirect off the host and a down host fail with a reason', async () => {
    const huge = await fetchPhoto(`${base}/huge.jpg`, opts({ maxBytes: 256 * 1024 }));
    expect(huge).toMatchObject({ error: expect.stringContaining('larger than') });
    const page = await fetchPhoto(`${base}/page.jpg`, opts());
    expect(page).toMatchObject({ error: expect.stringContaining('text/html') });
    const moved = await fetchPhoto(`${base}/moved.jpg`, opts());
    expect(moved).toMatchObject({ error: expect.stringContaining('refused') });
    const down = createServer();
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    const port = (down.address() as AddressInfo).port;
    await new Promise((r) => down.close(r));
    const r = await fetchPhoto(`http://127.0.0.1:${port}/x.jpg`, opts());
    expect('error' in r).toBe(true);
  });
});

describe('crops', () => {
  it('follow the focal point', async () => {
    // Left half red, right half blue: a focus on the right gives a blue crop.
    const img = await sharp({ create: { width: 400, height: 100, channels: 3, background: '#ff0000' } })
      .composite([
        {
          input: { create: { width: 200, height: 100, channels: 3, background: '#0000ff' } },
          left: 200,
          top: 0,
        },
      ])
      .png()
      .toBuffer();
    const uri = await cropPhoto(img, 'wechat', { x: 0.9, y: 0.5 });
    const out = await sharp(Buffer.from(uri.split(',')[1]!, 'base64'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(out.data[2]!).toBeGreaterThan(200); // blue
    expect(out.data[0]!).toBeLessThan(60);
    const left = await cropPhoto(img, 'wechat', { x: 0.1, y: 0.5 });
    const l = await sharp(Buffer.from(left.split(',')[1]!, 'base64'))
      .raw()
      .toBuffer();
    expect(l[0]!).toBeGreaterThan(200); // red
  });
});

describe('build with remote photos', () => {
  it('draws the fetched photo; a failed one gives the card without it and a warning naming the URL', async () => {
    const out = mkdtempSync(join(tmpdir(), 'photos-build-'));
    dirs.push(out);
    const logs: Record<string, unknown>[] = [];
    const ctx = testContext({
      root: repoRoot,
      config: {
        cards: {
          formats: ['og'],
          kinds: ['article'],
          workers: 0,
          photos: { allowHttpLoopback: true, timeoutMs: 10_000 },
        },
      },
      paths: { content: join(fixtureDir, 'content'), out },
    });
    ctx.logger = pino({ level: 'info' }, { write: (l: string) => logs.push(JSON.parse(l)) });
    const ed = edition({
      articles: [
        article({ id: 'with-photo', image: { src: `${base}/ok.jpg`, alt: '紅' } }),
        article({ id: 'no-photo', image: { src: `${base}/page.jpg`, alt: '頁' } }),
      ],
      stats: [],
    });
    const r = await renderCards(ed, ctx, { editionDir: join(out, ed.id), progress: false });
    expect(r.failures).toEqual([]);
    expect(r.cards.map((c) => c.itemId)).toEqual(['with-photo', 'no-photo']);
    // The photo (a flat #a4161a JPEG) fills the panel right of the headline.
    const red = (file: string) => {
      const png = PNG.sync.read(readFileSync(join(out, ed.id, file)));
      let n = 0;
      for (let i = 0; i < png.data.length; i += 4) {
        const x = (i / 4) % png.width;
        if (x > 700 && Math.abs(png.data[i]! - 164) < 12 && png.data[i + 1]! < 40 && png.data[i + 2]! < 45)
          n++;
      }
      return n;
    };
    // (The card without it has only the masthead rule and the brand in that colour.)
    expect(red('cards/with-photo/og.png') - red('cards/no-photo/og.png')).toBeGreaterThan(50_000);
    const warn = logs.find((l) => l.code === 'CARD_PHOTO_FETCH');
    expect(warn).toMatchObject({ url: `${base}/page.jpg`, level: 40 });
    // A second build within the failure's time does not ask the host again.
    const before = hits['/page.jpg'];
    await renderCards(ed, ctx, { editionDir: join(out, ed.id), progress: false });
    expect(hits['/page.jpg']).toBe(before);
  }, 60_000);
});
