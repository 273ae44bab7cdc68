// `broadsheet build` (the real CLI, in a copy of the working setup) stages the
// digest's locale variants and story thumbnails; `send` reads the variants
// back; the archive serves the zh-Hans page and the thumbnails at their URLs.
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSendInput } from '../../src/delivery/edition.ts';
import { mergeRecipient } from '../../src/email/index.ts';
import type { Manifest } from '../../src/jobs/manifest.ts';
import { createReviewApp } from '../../src/review/app.ts';
import { type DB, openStore } from '../../src/store/db.ts';
import { RECIPIENT } from '../fixtures/email/fixtures.ts';
import { cli, workspaceArgs } from '../helpers/cli.ts';
import { testContext } from '../helpers/context.ts';
import { cleanEnv, copyWorkingSetup } from '../helpers/workspace.ts';

const EDITION = 'daily-2025-12-10';
const STORY = 'data-governance-model';
let dir: string;
let manifest: Manifest;
let db: DB | undefined;

beforeAll(async () => {
  // The sample articles' pictures are files in the content folder (content/images/).
  dir = copyWorkingSetup('bs-email-build-');
  // Few cards: this test is about the digest.
  appendFileSync(
    join(dir, 'broadsheet.config.yaml'),
    '\ncards:\n  formats: [og]\n  kinds: [statset]\nreview:\n  archiveUnsent: true\n',
  );
  const r = cli(['build', ...workspaceArgs(dir)], { cwd: dir, env: cleanEnv() });
  expect(r.code, r.stderr).toBe(0);
  manifest = JSON.parse(readFileSync(join(dir, 'out', EDITION, 'manifest.json'), 'utf8'));
}, 180_000);

afterAll(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The List-Id header, its encoded words (RFC 2047, base64) decoded. */
const listId = (m: { headerLines: readonly { key: string; line: string }[] } | undefined) =>
  (m?.headerLines.find((h) => h.key === 'list-id')?.line ?? '')
    .replace(/^List-Id:\s*/i, '')
    .replace(/\r?\n\s*/g, ' ')
    .replace(/=\?utf-8\?B\?([^?]*)\?=\s*/gi, (_m, b64: string) => Buffer.from(b64, 'base64').toString('utf8'))
    .trim();

const ctxFor = () =>
  testContext({
    root: dir,
    config: { review: { archiveUnsent: true } },
    paths: { out: join(dir, 'out'), store: join(dir, 'db.sqlite') },
  });

describe('build', () => {
  it('stages the zh-Hans variant beside the digest and records it in the manifest', () => {
    const v = manifest.digest?.variants;
    expect(Object.keys(v ?? {})).toEqual(['zh-Hant-HK', 'zh-Hans']);
    expect(v!['zh-Hant-HK']!.html).toBe('digest/index.html');
    expect(v!['zh-Hans']).toMatchObject({ html: 'digest/zh-Hans/index.html', fromName: '大公报每日简报' });
    const html = readFileSync(join(dir, 'out', EDITION, 'digest/zh-Hans/index.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html><html lang="zh-Hans"/);
  });

  it('resizes the lead picture for the 552 px column and links it under publicUrl with its height', async () => {
    const file = join(dir, 'out', EDITION, 'digest/images', 'china-ai-patents-lead-552w.jpg');
    const meta = await sharp(file).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.width).toBeLessThanOrEqual(1104);
    const html = readFileSync(join(dir, 'out', EDITION, 'digest/index.html'), 'utf8');
    const img = /<img[^>]+china-ai-patents-lead-552w\.jpg[^>]*>/.exec(html)?.[0] ?? '';
    expect(img).toContain(
      `src="https://news.example.com/broadsheet/archive/${EDITION}/images/china-ai-patents-lead-552w.jpg"`,
    );
    expect(img).toContain(`height="${Math.round((meta.height! * 552) / meta.width!)}"`);
  });

  it('writes a resized JPEG thumbnail and links it by absolute URL with width, height and a short alt', async () => {
    const file = join(dir, 'out', EDITION, 'digest/images', `${STORY}-96x64.jpg`);
    expect(existsSync(file)).toBe(true);
    const meta = await sharp(file).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 192, 128]);
    const html = readFileSync(join(dir, 'out', EDITION, 'digest/index.html'), 'utf8');
    const img = html.match(new RegExp(`<img[^>]+${STORY}-96x64\\.jpg[^>]*>`))?.[0] ?? '';
    expect(img).toContain(
      `src="https://news.example.com/broadsheet/archive/${EDITION}/images/${STORY}-96x64.jpg"`,
    );
    expect(img).toMatch(/width="96"/);
    expect(img).toMatch(/height="64"/);
    const alt = /alt="([^"]*)"/.exec(img)?.[1] ?? '';
    expect([...alt].length).toBeGreaterThan(0);
    expect([...alt].length).toBeLessThanOrEqual(24);
  });
});

describe('send and archive', () => {
  it('send reads the staged variants: a zh-Hans reader gets the compiled Simplified digest', async () => {
    const input = await loadSendInput(ctxFor(), EDITION);
    const m = mergeRecipient(input.digest, { ...RECIPIENT, locale: 'zh-Hans' });
    expect(m.locale).toBe('zh-Hans');
    expect(m.fromName).toBe('大公报每日简报');
    expect(m.html).toContain("'PingFang SC'");
    expect(m.html).toContain(`${RECIPIENT.viewOnlineUrl}/zh-Hans"`);
  });

  it('broadsheet send gives the zh-Hans reader a Simplified From name, List-Id phrase and digest', async () => {
    const env = cleanEnv();
    const imp = cli(['subscribers', 'import', join(dir, 'content/subscribers.csv'), ...workspaceArgs(dir)], {
      cwd: dir,
      env,
    });
    expect(imp.code, imp.stderr).toBe(0);
    const r = cli(['send', '--edition', EDITION, '--transport', 'outbox', ...workspaceArgs(dir)], {
      cwd: dir,
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    const box = join(dir, 'out', EDITION, 'outbox');
    const mails = await Promise.all(
      readdirSync(box).map(async (f) => simpleParser(readFileSync(join(box, f)))),
    );
    const hans = mails.find((m) => m.html && /lang="zh-Hans"/.test(m.html));
    const hant = mails.find((m) => m.html && /lang="zh-Hant-HK"/.test(m.html));
    expect(hans?.from?.value[0]?.name).toBe('大公报每日简报');
    expect(listId(hans)).toMatch(/^每日简报 ?<daily\./);
    // The lead leads; the reader's topics (人工智能;科技) may bring a second story into the subject.
    expect(hans?.subject).toMatch(/^中国AI突飞猛进\u3000专利量全球居首(｜|$)/);
    expect(hans?.subject).not.toMatch(/[國從變為規則義]/);
    expect(hans?.html).toContain("'PingFang SC'");
    expect(hant?.from?.value[0]?.name).toBe('大公報每日簡報');
    expect(listId(hant)).toMatch(/^每日簡報 ?<daily\./);
  }, 120_000);

  it('serves archive/<id>/zh-Hans and the thumbnails; an unknown variant is not found', async () => {
    const ctx = ctxFor();
    db = openStore(ctx.paths.store);
    const app = createReviewApp(ctx, { db });
    const page = await app.request(`http://127.0.0.1/archive/${EDITION}/zh-Hans`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<html lang="zh-Hans"/);
    expect(html).toContain('读者，早上好');
    expect(html).not.toMatch(/%%[a-z_]+%%/);
    const img = await app.request(`http://127.0.0.1/archive/${EDITION}/images/${STORY}-96x64.jpg`);
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/jpeg');
    expect([...new Uint8Array(await img.arrayBuffer()).slice(0, 2)]).toEqual([0xff, 0xd8]); // JPEG
    expect((await app.request(`http://127.0.0.1/archive/${EDITION}/fr`)).status).toBe(404);
    // The compact email links to the full 數讀 on the archive page, anchored at each set.
    const own = await (await app.request(`http://127.0.0.1/archive/${EDITION}`)).text();
    const email = readFileSync(join(dir, 'out', EDITION, 'digest/index.html'), 'utf8');
    const figures = (h: string) => h.match(/class="sn"/g)?.length ?? 0;
    expect(figures(own)).toBeGreaterThan(figures(email));
    for (const m of email.matchAll(/href="%%view_online_url%%#([a-z0-9-]+)"/g)) {
      expect(own).toContain(`id="${m[1]}"`);
      expect(html).toContain(`id="${m[1]}"`);
    }
    expect(email).toMatch(/%%view_online_url%%#/);
    expect((await app.request(`http://127.0.0.1/archive/${EDITION}/images/..%2Fmanifest.json`)).status).toBe(
      404,
    );
  });
});
