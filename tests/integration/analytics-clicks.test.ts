// Click analytics end to end (issue 15): the real sample digest compiled with
// click links, `broadsheet serve` answering them on 127.0.0.1, fetch following
// them without redirects, and headless Chromium clicking one.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scannerCount, uniqueClicksByStory } from '../../src/analytics/counts.ts';
import { issueReaderRef, verifyClick } from '../../src/analytics/token.ts';
import type { Edition } from '../../src/edition/model.ts';
import { withUtm } from '../../src/email/fields.ts';
import { type DigestResult, mergeRecipient, renderDigest } from '../../src/email/index.ts';
import { ROOT, seedEdition } from '../fixtures/email/fixtures.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { workspaceArgs } from '../helpers/cli.ts';
import { testContext } from '../helpers/context.ts';
import { startServe, stopServe } from '../helpers/serve.ts';
import { needs } from '../helpers/system.ts';

const SECRET = 'analytics-clicks-test-secret-0123456789';
const KEYS = [Buffer.from(SECRET)];
const PUBLIC = 'https://news.example.com/broadsheet/';
const ctxFor = (analytics: Record<string, unknown>) =>
  testContext({
    root: ROOT,
    config: { analytics },
    secrets: { secret: SECRET },
    now: new Date('2025-12-10T07:30:00+08:00'),
  });
const ctx = ctxFor({});
const UTM = ctx.config.email.utm;
const READER = {
  email: 'reader@example.com',
  unsubscribeUrl: `${PUBLIC}u/UNSUB`,
  preferencesUrl: `${PUBLIC}p/PREFS`,
  viewOnlineUrl: `${PUBLIC}archive/daily-2025-12-10`,
};

const hrefs = (html: string) =>
  [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
const clickLinks = (s: string) => [
  ...new Set(s.match(/https?:\/\/[^\s"<>]+\/r\/[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)?/g) ?? []),
];

let seed: Edition;
let digest: DigestResult;
let plain: DigestResult;
let dir: string;
let proc: ChildProcess;
let base: string;
let articles: Server;
let articleBase: string;

function store() {
  return new Database(join(dir, 'db.sqlite'), { readonly: true });
}
function counts(edition: string) {
  const db = store();
  try {
    return {
      stories: uniqueClicksByStory(db, edition),
      scanners: scannerCount(db, edition),
      rows: db
        .prepare('SELECT story, subscriber_id, method, scanner FROM clicks WHERE edition = ? ORDER BY id')
        .all(edition) as {
        story: string;
        subscriber_id: number | null;
        method: string;
        scanner: number;
      }[],
    };
  } finally {
    db.close();
  }
}
/** A click link of the digest as served by the test's serve (publicUrl is not where it listens). */
const local = (link: string) => `${base}/r/${link.split('/r/')[1]}`;
const follow = (url: string, ua: string, method = 'GET') =>
  fetch(url, { method, redirect: 'manual', headers: { 'user-agent': ua } });

beforeAll(async () => {
  seed = await seedEdition(ctx);
  digest = await renderDigest(seed, ctx, { validation: 'strict' });
  plain = await renderDigest(seed, ctxFor({ enabled: false }), { validation: 'strict' });
  articles = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>article</title><h1 id="a">${req.url}</h1>`);
  });
  await new Promise<void>((r) => articles.listen(0, '127.0.0.1', r));
  articleBase = `http://127.0.0.1:${(articles.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'bs-clicks-'));
  // A long burst window: the burst test must not depend on how fast this machine is.
  writeFileSync(join(dir, 'broadsheet.config.yaml'), 'analytics:\n  burst:\n    seconds: 30\n');
  ({ base, proc } = await startServe(workspaceArgs(dir), { BROADSHEET_SECRET: SECRET }));
}, 120_000);

afterAll(async () => {
  await stopServe(proc);
  await new Promise((r) => articles?.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('click links in the compiled sample digest', () => {
  it('every article link, in HTML and text, is a /r/ link naming the edition and story of that article', () => {
    const byUrl = new Map(seed.articles.map((a) => [a.url, a.id]));
    const html = hrefs(digest.html).filter((h) => h.includes('/r/'));
    const text = clickLinks(digest.text);
    // Lead: picture, headline, read more; each other story: headline (+ thumbnail).
    expect(html.length).toBeGreaterThanOrEqual(seed.articles.length + 2);
    expect(new Set(text).size).toBe(seed.articles.length);
    for (const link of [...html, ...text]) {
      expect(link.startsWith(`${PUBLIC}r/`)).toBe(true);
      const claims = verifyClick(KEYS, link.slice(`${PUBLIC}r/`.length));
      expect(claims?.edition).toBe(seed.id);
      expect(byUrl.get(claims!.url)).toBe(claims!.story);
    }
    // No article is linked directly any more, with or without UTM.
    for (const a of seed.articles) {
      expect(digest.html).not.toContain(`href="${a.url}`);
      expect(digest.text).not.toContain(a.url);
    }
  });

  it('leaves unsubscribe, preferences, view online, the website and 數讀 links as they were', () => {
    const merged = mergeRecipient(digest, READER);
    const direct = (x: string) => seed.articles.some((a) => x.startsWith(a.url));
    const other = (h: string[]) => h.filter((x) => !x.includes('/r/') && !direct(x)).sort();
    expect(other(hrefs(merged.html))).toEqual(other(hrefs(mergeRecipient(plain, READER).html)));
    for (const u of [
      READER.unsubscribeUrl,
      READER.preferencesUrl,
      READER.viewOnlineUrl,
      ctx.config.brand.url,
    ])
      expect(merged.html).toContain(`href="${u}`);
    // Without perReader there is no reader part at all.
    expect(merged.html).not.toMatch(/\/r\/[A-Za-z0-9_-]+\//);
  });

  it('says how much bigger the digest got (the Gmail clip line is 102,400 bytes)', () => {
    const grew = digest.bytes - plain.bytes;
    console.log(
      `digest worst-case bytes: ${plain.bytes} direct links → ${digest.bytes} click links (+${grew})`,
    );
    expect(digest.bytes).toBeLessThan(ctx.config.email.maxBytes);
    // Each /r/ link is at most ~60 bytes longer than the UTM link it replaces.
    expect(grew).toBeLessThan(hrefs(digest.html).filter((h) => h.includes('/r/')).length * 60 + 200);
  });

  it('with perReader, each link carries the reader part the merge fills in', async () => {
    const per = await renderDigest(seed, ctxFor({ perReader: true, openPixel: true }), {
      validation: 'strict',
    });
    const ref = issueReaderRef(KEYS, seed.id, 4242);
    const merged = mergeRecipient(per, { ...READER, readerRef: `/${ref}` });
    const links = hrefs(merged.html).filter((h) => h.includes('/r/'));
    expect(links.length).toBeGreaterThan(0);
    for (const l of links) expect(l.endsWith(`/${ref}`)).toBe(true);
    for (const l of clickLinks(merged.text)) expect(l.endsWith(`/${ref}`)).toBe(true);
    expect(merged.html).not.toContain('4242');
    // The open pixel (openPixel: true) ends the HTML and carries the reader part too; none without it.
    expect(merged.html).toMatch(
      new RegExp(
        `<img src="${PUBLIC}o/[A-Za-z0-9_-]+/${ref}\\.gif" width="1" height="1" alt(?:="")?[ >](?![\\s\\S]*<img)`,
      ),
    );
    expect(digest.html).not.toContain('/o/');
  });
});

describe('/r/ on serve', () => {
  it('records the click and redirects (302) to the article with UTM, uncached, without a referrer', async () => {
    const links = clickLinks(digest.text);
    for (const [i, link] of links.entries()) {
      const claims = verifyClick(KEYS, link.split('/r/')[1]!)!;
      const res = await follow(local(link), `Mozilla/5.0 reader-${i}`);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(withUtm(claims.url, UTM, seed.id));
      expect(res.headers.get('location')).toContain('utm_source=newsletter');
      expect(res.headers.get('cache-control')).toContain('no-store');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
    const c = counts(seed.id);
    expect(c.stories.map((s) => s.unique)).toEqual(links.map(() => 1));
    expect(c.scanners).toBe(0);
    // perReader is off: nothing names a reader.
    expect(c.rows.every((r) => r.subscriber_id === null)).toBe(true);
  });

  it('a person checking one link with curl a few times counts every time (one unique)', async () => {
    const link = local(clickLinks(digest.text)[0]!);
    const before = counts(seed.id).stories.find((s) => s.story === seed.articles[0]!.id)!;
    for (let i = 0; i < 3; i++) expect((await follow(link, 'curl/8.5.0')).status).toBe(302);
    const after = counts(seed.id).stories.find((s) => s.story === seed.articles[0]!.id)!;
    expect(after.total - before.total).toBe(3);
    expect(after.unique - before.unique).toBe(1);
  });

  it('HEAD answers 302 too but is a scanner, never counted', async () => {
    const link = local(clickLinks(digest.text)[1]!);
    const before = counts(seed.id);
    const res = await follow(link, 'Mozilla/5.0 head-checker', 'HEAD');
    expect(res.status).toBe(302);
    const after = counts(seed.id);
    expect(after.scanners - before.scanners).toBe(1);
    expect(after.stories).toEqual(before.stories);
    expect(after.rows.at(-1)).toMatchObject({ method: 'HEAD', scanner: 1 });
  });

  it('a burst over three stories from one visitor is a scanner, the earlier clicks too', async () => {
    const before = counts(seed.id);
    for (const link of clickLinks(digest.text).slice(0, 3))
      expect((await follow(local(link), 'Mozilla/5.0 (Windows NT 10.0) gateway')).status).toBe(302);
    const after = counts(seed.id);
    expect(after.scanners - before.scanners).toBe(3);
    expect(after.stories).toEqual(before.stories);
  });

  it('a forged, altered or cut token is a 404 page linking the archive, never a redirect', async () => {
    const good = clickLinks(digest.text)[0]!.split('/r/')[1]!;
    const altered = good.slice(0, 10) + (good[10] === 'A' ? 'B' : 'A') + good.slice(11);
    const before = counts(seed.id).rows.length;
    for (const bad of [
      `${base}/r/${altered}`,
      `${base}/r/${good.slice(0, -2)}`,
      `${base}/r/aHR0cHM6Ly9ldmlsLmV4YW1wbGUv`,
      `${base}/r/x?url=https://evil.example/`,
      `${base}/r/${encodeURIComponent('https://evil.example/')}`,
    ]) {
      const res = await follow(bad, 'Mozilla/5.0 forger');
      expect(res.status).toBe(404);
      expect(res.headers.get('location')).toBeNull();
      const body = await res.text();
      expect(body).toMatch(/<a href="https:\/\/news\.example\.com\/[^"]*"/);
      expect(body).not.toContain('evil.example');
    }
    expect(counts(seed.id).rows.length).toBe(before);
  });

  it('a reader part is ignored while perReader is off (no subscriber id stored)', async () => {
    const link = `${local(clickLinks(digest.text)[2]!)}/${issueReaderRef(KEYS, seed.id, 1)}`;
    expect((await follow(link, 'Mozilla/5.0 with-ref')).status).toBe(302);
    expect(counts(seed.id).rows.at(-1)).toMatchObject({ subscriber_id: null, scanner: 0 });
  });
});

describe.skipIf(!needs('chromium', 'chromium'))('a browser clicking a digest link', () => {
  it('lands on the article (a loopback server) with UTM, and the click is counted', async () => {
    // The sample edition with its articles on the loopback "newsroom" site.
    const edition: Edition = {
      ...seed,
      id: 'daily-browser',
      articles: seed.articles.map((a) => ({ ...a, url: `${articleBase}/news/${a.id}` })),
    };
    const d = await renderDigest(edition, ctx, { validation: 'skip' });
    const html = mergeRecipient(d, READER).html.replaceAll(PUBLIC, `${base}/`);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.setContent(html);
      const lead = edition.articles[0]!;
      await Promise.all([page.waitForURL(`${articleBase}/news/**`), page.click('h2 a')]);
      const landed = new URL(page.url());
      expect(landed.pathname).toBe(`/news/${lead.id}`);
      expect(landed.searchParams.get('utm_source')).toBe('newsletter');
      expect(landed.searchParams.get('utm_campaign')).toBe('daily-browser');
      expect(await page.textContent('#a')).toContain(`/news/${lead.id}`);
    } finally {
      await browser.close();
    }
    expect(counts('daily-browser').stories).toEqual([
      { story: edition.articles[0]!.id, unique: 1, total: 1 },
    ]);
  }, 60_000);
});
