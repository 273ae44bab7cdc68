// The editors' app in Debian Chromium against the real `broadsheet serve`:
// sign in, approve a card, edit a caption and watch the X counter, publish to
// a loopback webhook receiver (it fails once), unsubscribe through the POST
// endpoint with the URL `subscribers list --json` prints. Screenshots land in
// tests/.tmp/ (git-ignored) for a human to look at.
import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EDITION, PASSWORD, writeEdition } from '../fixtures/review/edition.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { cli, ROOT, workspaceArgs } from '../helpers/cli.ts';
import { startServe } from '../helpers/serve.ts';
import { needs } from '../helpers/system.ts';

const SHOTS = join(ROOT, 'tests/.tmp');
const SECRET = 'e2e-review-secret';

describe.skipIf(!needs('chromium', 'chromium'))('review app in Chromium', () => {
  let dir: string;
  let server: ChildProcess;
  let base: string;
  let browser: BrowserContext;
  let receiver: Server;
  let failNext = 1;
  const hooks: { key: string; sig: string; body: string; status: number }[] = [];
  const dialogs: string[] = [];
  const env = () => ({
    BROADSHEET_SECRET: SECRET,
    BROADSHEET_EDITOR_PASSWORD: PASSWORD,
    BROADSHEET_PUBLIC_URL: 'http://127.0.0.1/',
  });
  const args = () => [...workspaceArgs(dir)];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'bs-review-e2e-'));
    await writeEdition(join(dir, 'out'));

    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = failNext-- > 0 ? 503 : 200;
        hooks.push({
          key: String(req.headers['idempotency-key']),
          sig: String(req.headers['x-broadsheet-signature']),
          body: Buffer.concat(chunks).toString('utf8'),
          status,
        });
        res.writeHead(status).end(status === 200 ? 'accepted' : 'busy');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    writeFileSync(
      join(dir, 'broadsheet.config.yaml'),
      `review:\n  publishers: [folder, webhook]\n  webhook:\n    url: ${hook}\n    backoffMs: 50\n    attempts: 3\n`,
    );
    for (const [email, name] of [
      ['chan.taiman@example.com', '陳大文'],
      ['lee.siumei@example.com', '李小梅'],
    ])
      expect(cli(['subscribers', 'add', email!, '--name', name!, ...args()], { env: env() }).code).toBe(0);

    ({ base, proc: server } = await startServe(args(), env()));
    browser = await launchChromium({
      viewport: { width: 1280, height: 900 },
      locale: 'zh-HK',
    });
    browser.setDefaultTimeout(0);
    browser.on('page', (p) =>
      p.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      }),
    );
  });

  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
    await new Promise<void>((r) => receiver?.close(() => r()) ?? r());
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const post = (page: Page, item: string, platform: string) => page.locator(`#p-${item}-${platform}`);
  // Waits on the page's state, never on a clock (timeout 0: the test's own limit applies).
  const firstThumbLoaded = (page: Page) =>
    page.waitForFunction(
      () => {
        const img = document.querySelector<HTMLImageElement>('.thumbs img');
        return !!img && img.complete && img.naturalWidth > 0;
      },
      undefined,
      { timeout: 0 },
    );

  it('signs in with the keyboard, approves a card, edits a caption with a live X count, publishes', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.screenshot({ path: join(SHOTS, 'review-login.png') });
    await page.locator('#name').fill('陳編輯');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/`);
    await page.getByRole('link', { name: /每日簡報/ }).click();
    await page.waitForURL(`${base}/e/${EDITION}`);
    await firstThumbLoaded(page);
    await page.screenshot({ path: join(SHOTS, 'review-gallery.png'), fullPage: false });

    // Hostile content stays text.
    expect(await page.locator('h3', { hasText: '<script>alert(1)</script>' }).count()).toBe(1);

    // Approve the X post of the lead story.
    const x = post(page, 'china-ai-patents-lead', 'x');
    await x.getByRole('button', { name: '批准' }).click();
    await page.waitForLoadState('load');
    expect(await post(page, 'china-ai-patents-lead', 'x').locator('.badge').first().textContent()).toBe(
      '已批准',
    );
    expect(await post(page, 'china-ai-patents-lead', 'x').locator('.who').textContent()).toContain('陳編輯');

    // Edit a caption: the X counter follows (CJK weighs 2, a URL 23).
    const stat = post(page, 'china-ai-2025-1', 'x');
    const area = stat.locator('textarea');
    const count = async () => Number(await stat.locator('output.count span').textContent());
    const before = await count();
    await area.focus();
    await page.keyboard.press('End');
    await page.keyboard.press('Control+End');
    await page.keyboard.type(' 數讀');
    expect(await count()).toBe(before + 5);
    await page.keyboard.type(' https://example.com/a/very/long/path/that/still/counts/as/twenty-three');
    expect(await count()).toBe(before + 5 + 1 + 23);
    await area.fill('中'.repeat(141));
    expect(await count()).toBe(282);
    expect(await stat.locator('output.count').getAttribute('class')).toContain('over');
    await stat.screenshot({ path: join(SHOTS, 'review-caption-over.png') });
    await area.fill('數讀中國AI發展｜用戶規模大 "><img src=x onerror=alert(9)> <script>alert(8)</script>');
    const edited = await count();
    expect(edited).toBeGreaterThan(0);
    await stat.getByRole('button', { name: '儲存文案' }).click();
    await page.waitForLoadState('load');
    expect(await post(page, 'china-ai-2025-1', 'x').locator('textarea').inputValue()).toContain(
      '<script>alert(8)</script>',
    );
    expect(await post(page, 'china-ai-2025-1', 'x').locator('.badge.edited').count()).toBe(1);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    await post(page, 'china-ai-2025-1', 'x').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'review-edited.png') });

    // Filters (work without JS: a GET form).
    await page.goto(`${base}/e/${EDITION}?status=approved`);
    expect(await page.locator('section.post').count()).toBe(1);

    // Publish: the receiver answers 503 once, then 200; one post × (folder, webhook).
    await page.goto(`${base}/queue`);
    await page.getByRole('button', { name: /立即發佈/ }).click();
    await page.waitForURL(/\/queue\?r=/);
    expect(await page.locator('.notice').textContent()).toContain('已發佈 2');
    await page.screenshot({ path: join(SHOTS, 'review-queue.png') });
    expect(hooks.map((h) => h.status)).toEqual([503, 200]);
    expect(hooks[1]!.key).toBe(hooks[0]!.key);
    for (const h of hooks)
      expect(h.sig).toBe(`sha256=${createHmac('sha256', SECRET).update(h.body).digest('hex')}`);
    const body = JSON.parse(hooks[1]!.body);
    expect(body).toMatchObject({
      key: hooks[1]!.key,
      item: 'china-ai-patents-lead',
      platform: 'x',
      format: 'x',
      editor: '陳編輯',
    });
    expect(Buffer.from(body.card.base64, 'base64').subarray(1, 4).toString()).toBe('PNG');
    // The CLI finds nothing more to send: published once.
    const again = cli(['publish', '--json', ...args()], { env: env() });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ published: 0 });
    expect(hooks).toHaveLength(2);

    await page.goto(`${base}/e/${EDITION}?platform=x`);
    expect(await post(page, 'china-ai-patents-lead', 'x').locator('.badge').first().textContent()).toBe(
      '已發佈',
    );
    expect(dialogs).toEqual([]);
  });

  it('approves and rejects with JavaScript off (plain form posts)', async () => {
    const nojs = await launchChromium({
      javaScriptEnabled: false,
    });
    try {
      const page = await nojs.newPage();
      await page.goto(`${base}/e/${EDITION}`);
      await page.locator('#name').fill('無腳本編輯');
      await page.locator('#password').fill(PASSWORD);
      await page.getByRole('button', { name: '登入' }).click();
      await page.waitForURL(`${base}/e/${EDITION}`);
      await post(page, 'china-ai-2025-1', 'threads').getByRole('button', { name: '批准' }).click();
      await page.waitForLoadState('load');
      await post(page, 'hostile-story', 'instagram').getByRole('button', { name: '否決' }).click();
      await page.waitForLoadState('load');
      expect(await post(page, 'china-ai-2025-1', 'threads').locator('.badge').first().textContent()).toBe(
        '已批准',
      );
      expect(await post(page, 'hostile-story', 'instagram').locator('.badge').first().textContent()).toBe(
        '已否決',
      );
      expect(await post(page, 'hostile-story', 'instagram').locator('.who').textContent()).toContain(
        '無腳本編輯',
      );
      // Without the script the count is the server's, and it is still there.
      expect(await post(page, 'china-ai-2025-1', 'x').locator('output.count span').textContent()).toMatch(
        /^\d+$/,
      );
    } finally {
      await nojs.close();
    }
  });

  it('is usable on a phone', async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/e/${EDITION}?platform=x`);
    await firstThumbLoaded(page);
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SHOTS, 'review-phone.png') });
  });

  it('unsubscribes with the URL `subscribers list --json` prints: GET confirms only, the button POSTs', async () => {
    const list = () =>
      JSON.parse(cli(['subscribers', 'list', '--json', ...args()], { env: env() }).stdout) as {
        email: string;
        status: string;
        unsubscribeUrl: string;
      }[];
    // The URLs exactly as the CLI prints them (publicUrl http://127.0.0.1/ → the server's origin).
    const printed = list();
    const first = printed.find((s) => s.email === 'chan.taiman@example.com')!;
    // Statuses straight from the store (read-only), not through another CLI start each time.
    const statusOf = (email: string) => {
      const db = new Database(join(dir, 'db.sqlite'), { readonly: true });
      try {
        return (db.prepare('SELECT status FROM subscribers WHERE email = ?').get(email) as { status: string })
          .status;
      } finally {
        db.close();
      }
    };
    const path = new URL(first.unsubscribeUrl).pathname;
    const page = await browser.newPage();
    await browser.clearCookies();
    const res = await page.goto(`${base}${path}`);
    expect(res?.status()).toBe(200);
    await page.screenshot({ path: join(SHOTS, 'review-unsubscribe-confirm.png') });
    expect(statusOf(first.email)).toBe('active');
    await page.getByRole('button', { name: /確認取消訂閱/ }).click();
    await page.waitForLoadState('load');
    expect(await page.locator('h1').textContent()).toBe('已取消訂閱');
    await page.screenshot({ path: join(SHOTS, 'review-unsubscribed.png') });
    expect(statusOf(first.email)).toBe('unsubscribed');

    // RFC 8058 one-click from a mail provider: a bare POST, no cookies.
    const second = printed.find((s) => s.email === 'lee.siumei@example.com')!;
    const p2 = new URL(second.unsubscribeUrl).pathname;
    // Altered in its last character (a different MAC, or the same bytes through the spare bits).
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const forged = await fetch(`${base}${p2.slice(0, -1)}${B64[B64.indexOf(p2.at(-1)!) ^ 1]}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(forged.status).toBe(400);
    expect(statusOf(second.email)).toBe('active');
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${base}${p2}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(r.status).toBe(200);
    }
    expect(statusOf(second.email)).toBe('unsubscribed');
  });
});
