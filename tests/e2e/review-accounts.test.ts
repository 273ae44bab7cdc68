// Editor accounts in Debian Chromium against the real `broadsheet serve`: an
// account made with `broadsheet editors add` signs in through the form, an
// editor (not admin) sees no publish button, signing out ends the session on
// the server (the cookie copied out of the browser no longer works), and a
// form on another origin of the same site — which the browser sends WITH the
// SameSite=Lax cookie, and here even with a leaked CSRF token — is refused by
// the Origin/Sec-Fetch-Site check.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
import { startServe, stopServe } from '../helpers/serve.ts';
import { needs } from '../helpers/system.ts';

const SHOTS = join(ROOT, 'tests/.tmp');
const EDITOR_PW = '網上編輯的長密碼 2025';
const ADMIN_PW = 'admin passphrase for e2e';

describe.skipIf(!needs('chromium', 'chromium'))('editor accounts in Chromium', () => {
  let dir: string;
  let server: ChildProcess;
  let base: string;
  let browser: BrowserContext;
  let attacker: Server;
  let attackerPage = '';
  const env = () => ({
    BROADSHEET_SECRET: 'e2e-accounts-secret',
    BROADSHEET_EDITOR_PASSWORD: PASSWORD,
    BROADSHEET_PUBLIC_URL: 'http://127.0.0.1/',
  });
  const args = () => [...workspaceArgs(dir)];
  const add = (name: string, role: string, pw: string) => {
    const r = cli(['editors', 'add', name, '--role', role, '--password-stdin', ...args()], {
      env: env(),
      input: `${pw}\n`,
    });
    expect(r.code, r.stderr).toBe(0);
  };
  const signIn = async (page: Page, name: string, password: string) => {
    await page.goto(`${base}/login`);
    await page.locator('#name').fill(name);
    await page.locator('#password').fill(password);
    await page.getByRole('button', { name: '登入' }).click();
    await page.waitForLoadState('load');
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bs-review-accounts-'));
    await writeEdition(join(dir, 'out'));
    writeFileSync(join(dir, 'broadsheet.config.yaml'), 'review:\n  publishers: [folder]\n');
    add('總編輯', 'admin', ADMIN_PW);
    add('網編', 'editor', EDITOR_PW);
    ({ base, proc: server } = await startServe(args(), env(), { captureStderr: true }));
    // Another origin on the same site (same host, another port): SameSite=Lax cookies still go along.
    attacker = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(attackerPage);
    });
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
    browser = await launchChromium({ viewport: { width: 1280, height: 900 }, locale: 'zh-HK' });
    browser.setDefaultTimeout(0);
  });

  afterAll(async () => {
    await browser?.close();
    await stopServe(server);
    await new Promise<void>((r) => attacker?.close(() => r()) ?? r());
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an editor account signs in, cannot publish, and signing out ends the copied cookie', async () => {
    const page = await browser.newPage();
    // With accounts in place, the shared password no longer signs anyone in.
    await signIn(page, '網編', PASSWORD);
    expect(await page.locator('.error').textContent()).toContain('名字或密碼不正確');

    await signIn(page, '網編', EDITOR_PW);
    expect(new URL(page.url()).pathname).toBe('/');
    await page.goto(`${base}/queue`);
    expect(await page.getByRole('button', { name: /立即發佈/ }).count()).toBe(0);
    expect(await page.locator('main').textContent()).toContain('只有管理員可以發佈');
    await page.screenshot({ path: join(SHOTS, 'review-queue-editor.png') });

    const copied = (await browser.cookies(base)).find((c) => c.name === 'bs_session')!.value;
    expect(
      (await fetch(`${base}/`, { redirect: 'manual', headers: { cookie: `bs_session=${copied}` } })).status,
    ).toBe(200);
    await page.getByRole('button', { name: '登出' }).click();
    await page.waitForURL(`${base}/login`);
    const replay = await fetch(`${base}/`, {
      redirect: 'manual',
      headers: { cookie: `bs_session=${copied}` },
    });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toMatch(/^\/login/);
    await page.close();
  });

  it('refuses a same-site, cross-origin form post carrying the cookie and even a leaked CSRF token', async () => {
    const page = await browser.newPage();
    await signIn(page, '總編輯', ADMIN_PW);
    await page.goto(`${base}/e/${EDITION}`);
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    attackerPage = `<!doctype html><form id="f" method="post" action="${base}/e/${EDITION}/p/hostile-story/x">
<input name="_csrf" value="${csrf}"><input name="action" value="reject"></form>
<script>document.getElementById('f').submit()</script>`;
    const origin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    const res = await Promise.all([
      page.waitForResponse((r) => r.url().startsWith(`${base}/e/`) && r.request().method() === 'POST'),
      page.goto(`${origin}/`),
    ]);
    expect(res[0].status()).toBe(403);
    // The browser did send the session cookie: only the origin check stood in the way.
    expect(await res[0].request().headerValue('cookie')).toMatch(/bs_session=/);
    const db = new Database(join(dir, 'db.sqlite'), { readonly: true });
    try {
      expect(
        db.prepare("SELECT count(*) FROM review_events WHERE item_id = 'hostile-story'").pluck().get(),
      ).toBe(0);
    } finally {
      db.close();
    }
    // The same form on our own page works.
    await page.goto(`${base}/e/${EDITION}`);
    await page.locator('#p-hostile-story-x').getByRole('button', { name: '否決' }).click();
    await page.waitForLoadState('load');
    expect(await page.locator('#p-hostile-story-x .badge').first().textContent()).toBe('已否決');
    await page.close();
  });
});
