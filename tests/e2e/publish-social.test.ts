// Social publishing end to end in Debian Chromium against the real
// `broadsheet serve`: an admin approves a card, sends it to X at the next run
// and schedules Bluesky for tomorrow, the daemon (`broadsheet schedule`, a
// child process) posts to loopback X and Bluesky fakes, the
// gallery then links the X post; the Bluesky post is cancelled before it goes.
// Screenshots land in tests/.tmp/ (git-ignored).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localParts } from '../../src/util/zoned.ts';
import { fakeBluesky } from '../fixtures/platforms/bluesky.ts';
import { fakeX } from '../fixtures/platforms/x.ts';
import { EDITION, ITEMS, PASSWORD, writeEdition } from '../fixtures/review/edition.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { BIN, ROOT, workspaceArgs } from '../helpers/cli.ts';
import { startServe, stopServe } from '../helpers/serve.ts';
import { needs } from '../helpers/system.ts';

const SHOTS = join(ROOT, 'tests/.tmp');

describe.skipIf(!needs('chromium', 'chromium'))('social publishing in Chromium', () => {
  const bsky = fakeBluesky();
  const xapi = fakeX();
  let dir: string;
  let server: ChildProcess | undefined;
  let base: string;
  let browser: BrowserContext;
  let env: Record<string, string>;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await Promise.all([bsky.start(), xapi.start()]);
    dir = mkdtempSync(join(tmpdir(), 'bs-social-e2e-'));
    await writeEdition(join(dir, 'out'));
    writeFileSync(
      join(dir, 'broadsheet.config.yaml'),
      'review:\n  publishers: []\n  social:\n    timeoutMs: 5000\njobs:\n  - name: publish\n    kind: publish\n',
    );
    env = {
      BROADSHEET_SECRET: 'e2e-social-secret',
      BROADSHEET_EDITOR_PASSWORD: PASSWORD,
      BROADSHEET_PUBLIC_URL: 'http://127.0.0.1/',
      BLUESKY_SERVICE: bsky.url,
      BLUESKY_HANDLE: bsky.handle,
      BLUESKY_APP_PASSWORD: bsky.password,
      X_API_URL: xapi.url,
      X_API_KEY: xapi.consumerKey,
      X_API_SECRET: 's',
      X_ACCESS_TOKEN: 't',
      X_ACCESS_SECRET: 'u',
    };
    ({ base, proc: server } = await startServe(workspaceArgs(dir), env));
    browser = await launchChromium({ viewport: { width: 1280, height: 900 }, locale: 'zh-HK' });
    browser.setDefaultTimeout(0);
  });
  afterAll(async () => {
    await browser?.close();
    await stopServe(server);
    await Promise.all([bsky.stop(), xapi.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const runPublish = () =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [BIN, 'run', 'publish', ...workspaceArgs(dir)], {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      });
      let stderr = '';
      p.stderr.on('data', (d) => {
        stderr += d;
      });
      p.on('close', (code) => resolve({ code, stderr }));
    });

  /** `broadsheet schedule` with the publish job every second, stopped (SIGTERM) once `done()` holds or after 60 s. */
  const runDaemonUntil = async (done: () => boolean) => {
    const config = join(dir, 'daemon.yaml');
    writeFileSync(
      config,
      'review:\n  publishers: []\n  social:\n    timeoutMs: 5000\njobs:\n  - name: publish\n    kind: publish\n    cron: "* * * * * *"\n',
    );
    const args = workspaceArgs(dir).map((a) => (a.endsWith('broadsheet.config.yaml') ? config : a));
    const p = spawn(process.execPath, [BIN, 'schedule', ...args], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    });
    let stderr = '';
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    const closed = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
    for (let i = 0; i < 600 && !done() && p.exitCode === null; i++)
      await new Promise((r) => setTimeout(r, 100));
    p.kill('SIGTERM');
    return { code: await closed, stderr };
  };

  it('approve, schedule, the daemon publishes, see the post link; cancel the other before it goes', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/login`);
    await page.locator('#name').fill('陳編輯');
    await page.locator('#password').fill(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/e/${EDITION}`);

    const story = ITEMS[0]!.id;
    const post = () => page.locator(`#p-${story}-x`);
    await post().getByRole('button', { name: '批准' }).click();
    await page.waitForLoadState('load');
    const row = (publisher: string) => post().locator(`li[data-publisher="${publisher}"]`);
    expect(await row('x').textContent()).toContain('未排期');
    expect(await row('bluesky').textContent()).toContain('未排期');

    // X at the next run; Bluesky tomorrow at 10:15 (the newsroom's zone).
    await row('x').getByRole('button', { name: '下次執行時發佈' }).click();
    await page.waitForLoadState('load');
    const t = localParts(Date.now() + 86_400_000, 'Asia/Hong_Kong');
    const p2 = (n: number) => String(n).padStart(2, '0');
    await row('bluesky')
      .locator('input[type="datetime-local"]')
      .fill(`${t.year}-${p2(t.month)}-${p2(t.day)}T10:15`);
    await row('bluesky').getByRole('button', { name: '排期' }).click();
    await page.waitForLoadState('load');
    expect(await row('bluesky').locator('time').getAttribute('datetime')).toMatch(/T02:15:00\.000Z$/);
    await post().screenshot({ path: join(SHOTS, 'social-scheduled.png') });

    // The daemon (`broadsheet schedule`, its publish job every second) posts what is due.
    const daemon = await runDaemonUntil(() => xapi.tweets.length > 0);
    expect(daemon.code, daemon.stderr).toBe(0);
    expect(xapi.tweets).toHaveLength(1);
    expect(bsky.posts.size).toBe(0);

    await page.reload();
    const link = row('x').locator('a.post-link');
    expect(await link.getAttribute('href')).toBe(`https://x.com/newsroom/status/${xapi.tweets[0]!.id}`);
    expect(await row('x').textContent()).toContain('已發佈');
    // One platform out, another still scheduled, nothing failed: no "retry" on offer.
    expect(await post().textContent()).toContain('其餘按排期發佈');
    expect(await post().textContent()).not.toContain('重試發佈');
    await post().screenshot({ path: join(SHOTS, 'social-published.png') });

    await row('bluesky').getByRole('button', { name: '取消' }).click();
    await page.waitForLoadState('load');
    expect(await row('bluesky').count()).toBe(0);
    expect((await runPublish()).code).toBe(0);
    expect(bsky.posts.size).toBe(0);
    expect(xapi.tweets).toHaveLength(1);
  }, 180_000);
});
