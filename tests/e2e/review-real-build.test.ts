// The gallery on an edition built by the real pipeline (`broadsheet build`)
// from the sample content, with one article made hostile: its title and dek
// try markup, and the email digest's merge-token syntax. Nothing may run in
// the editors' browser, and the archive names nobody.
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.ts';
import { cli, ROOT } from '../helpers/cli.ts';
import { startServe } from '../helpers/serve.ts';
import { needs } from '../helpers/system.ts';

const SHOTS = join(ROOT, 'tests/.tmp');
const PASSWORD = 'real-build-password';
const HOSTILE_TITLE = '<script>alert(1)</script> 數據治理 %%email%%';

describe.skipIf(!needs('chromium', 'chromium'))('review app on a real build', () => {
  let dir: string;
  let server: ChildProcess;
  let base: string;
  let browser: BrowserContext;
  let edition: string;
  const dialogs: string[] = [];
  const env = { BROADSHEET_SECRET: 'real-build-secret', BROADSHEET_EDITOR_PASSWORD: PASSWORD };
  const args = () => [
    '--config',
    join(dir, 'broadsheet.config.yaml'),
    '--content',
    join(dir, 'content'),
    '--out',
    join(dir, 'out'),
    '--store',
    join(dir, 'db.sqlite'),
  ];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bs-review-real-'));
    cpSync(join(ROOT, 'content'), join(dir, 'content'), { recursive: true });
    const file = join(dir, 'content/articles/2025-12-10/data-governance-model.md');
    const md = readFileSync(file, 'utf8')
      .replace(/^title: .*$/m, `title: ${JSON.stringify(HOSTILE_TITLE)}`)
      .replace(/^dek: .*$/m, `dek: '"><img src=x onerror=alert(2)> {{ brand.name }} 數據治理大模型'`);
    writeFileSync(file, md);
    // Fewer formats keep the build short; every layout still renders.
    writeFileSync(
      join(dir, 'broadsheet.config.yaml'),
      'cards:\n  formats: [og, x, square]\n  platforms: [x, threads, weibo]\nreview:\n  archiveUnsent: true\n',
    );
    const built = cli(['build', '--json', ...args()], { env });
    expect(built.code, built.stderr).toBe(0);
    edition = JSON.parse(built.stdout).edition.id;

    ({ base, proc: server } = await startServe(args(), env));
    browser = await launchChromium({
      viewport: { width: 1280, height: 900 },
    });
    browser.setDefaultTimeout(0);
    browser.on('page', (p) =>
      p.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      }),
    );
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows every item, card and caption of the edition, hostile text as text', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/e/${edition}`);
    await page.locator('#name').fill('"><svg onload=alert(3)>');
    await page.locator('#password').fill(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/e/${edition}`);
    const manifest = JSON.parse(readFileSync(join(dir, 'out', edition, 'manifest.json'), 'utf8')) as {
      cards: unknown[];
      posts: unknown[];
    };
    expect(await page.locator('.thumbs img').count()).toBe(manifest.cards.length);
    expect(await page.locator('section.post').count()).toBe(manifest.posts.length);
    expect(await page.locator('h3', { hasText: HOSTILE_TITLE }).count()).toBe(1);
    expect(await page.locator('h2').allTextContents()).toEqual(['報道', '數讀']);
    const hostile = page.locator('#item-data-governance-model');
    await hostile.scrollIntoViewIfNeeded();
    await page.waitForFunction(
      () =>
        Array.from(
          document.querySelectorAll<HTMLImageElement>('#item-data-governance-model .thumbs img'),
        ).every((i) => i.complete && i.naturalWidth > 0),
      undefined,
      { timeout: 0 },
    );
    await page.screenshot({ path: join(SHOTS, 'review-real-hostile.png') });

    // Approve the hostile X post with an edit that tries to break out of the textarea.
    const x = page.locator('#p-data-governance-model-x');
    await x.locator('textarea').fill('</textarea><script>alert(4)</script> 數據治理');
    await x.getByRole('button', { name: '批准' }).click();
    await page.waitForLoadState('load');
    expect(await page.locator('#p-data-governance-model-x .badge').first().textContent()).toBe('已批准');
    for (const path of ['/', `/e/${edition}?status=approved`, '/queue']) {
      await page.goto(`${base}${path}`);
      expect(await page.locator('script:not([src])').count(), path).toBe(0);
      expect(await page.locator('img[src="x"], svg[onload]').count(), path).toBe(0);
    }

    // The archive: the digest as sent, no merge tokens, no one's address.
    await browser.clearCookies();
    await page.goto(`${base}/archive/${edition}`);
    // As served: every token filled (the title's own "%%email%%" was escaped to &#37;% by the email stage).
    const raw = await (await fetch(`${base}/archive/${edition}`)).text();
    expect(raw).not.toMatch(/%%(name|email|unsubscribe_url|view_online_url)%%/);
    expect(raw).toContain('&#37;%email&#37;%');
    expect(await page.locator('script').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'review-real-archive.png'), fullPage: false });
    expect(dialogs).toEqual([]);
  });
});
