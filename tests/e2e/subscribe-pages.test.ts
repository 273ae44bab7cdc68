import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { simpleParser } from 'mailparser';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preferencesToken } from '../../src/delivery/unsubscribe.ts';
import { type Sink, startSink } from '../fixtures/delivery/sink.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { workspaceArgs } from '../helpers/cli.ts';
import { startServe, stopServe } from '../helpers/serve.ts';
import { needs } from '../helpers/system.ts';

// The readers' pages in Chromium on a 375 px phone, with JavaScript off: sign up
// on the hosted page, confirm from the email at a loopback SMTP sink, then
// change language and topics in the preference centre.

const SECRET = 'e2e-subscribe-secret-0123456789abcdef';
const EMAIL = 'phone.reader@example.com';

describe.skipIf(!needs('chromium', 'chromium'))('signup and preferences in Chromium', () => {
  let dir: string;
  let proc: ChildProcess;
  let base: string;
  let sink: Sink;
  let browser: BrowserContext;
  let page: Page;
  const row = () => {
    const db = new Database(join(dir, 'db.sqlite'), { readonly: true });
    try {
      return db.prepare('SELECT * FROM subscribers WHERE email = ?').get(EMAIL) as
        | { id: number; status: string; locale: string; topics: string }
        | undefined;
    } finally {
      db.close();
    }
  };
  /** No sideways scrolling at 375 px. */
  const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

  beforeAll(async () => {
    sink = await startSink();
    dir = mkdtempSync(join(tmpdir(), 'bs-e2e-subscribe-'));
    writeFileSync(join(dir, 'broadsheet.config.yaml'), 'subscribers:\n  topics: [科技, 要聞]\n');
    ({ base, proc } = await startServe(workspaceArgs(dir), {
      BROADSHEET_SECRET: SECRET,
      BROADSHEET_PUBLIC_URL: 'http://127.0.0.1/',
      SMTP_URL: sink.url,
    }));
    browser = await launchChromium({ viewport: { width: 375, height: 740 }, javaScriptEnabled: false });
    page = await browser.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stopServe(proc);
    await sink?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('signs up on the hosted page', async () => {
    await page.goto(`${base}/subscribe`);
    expect(await fits()).toBe(true);
    await page.getByLabel('電郵地址').fill(EMAIL);
    await page.getByLabel('科技').check();
    await page.getByLabel('語言').selectOption('en-GB');
    await page.getByRole('button', { name: '訂閱' }).click();
    await expect.poll(() => page.textContent('main')).toContain('請查看電郵');
    expect(await page.locator('input[name="website"]').isVisible()).toBe(false);
  }, 60_000);

  it('confirms from the email: opening the link alone changes nothing, the button does', async () => {
    await expect.poll(() => sink.received.length, { timeout: 20_000 }).toBe(1);
    const mail = await simpleParser(sink.received[0]!.raw);
    expect(mail.subject).toContain('Please confirm');
    const link = /http:\/\/127\.0\.0\.1\/(c\/\S+)/.exec(mail.text!)![1]!;
    await page.goto(`${base}/${link}`);
    expect(row()).toBeUndefined();
    expect(await fits()).toBe(true);
    // The reader chose English: the confirm page and its answer are in English.
    await page.getByRole('button', { name: 'Confirm subscription' }).click();
    await expect.poll(() => page.textContent('main')).toContain('Subscription confirmed');
    expect(row()).toMatchObject({ status: 'active', locale: 'en-GB', topics: '["科技"]' });
  }, 60_000);

  it('changes language and topics in the preference centre', async () => {
    await page.goto(`${base}/p/${preferencesToken([Buffer.from(SECRET)], 'daily', row()!.id)}`);
    expect(await fits()).toBe(true);
    expect(await page.textContent('main')).toContain('p***@example.com');
    await page.getByLabel('語言').selectOption('zh-Hans');
    await page.getByLabel('要聞').check();
    await page.getByRole('button', { name: '儲存' }).click();
    await expect.poll(() => page.textContent('main')).toContain('已儲存');
    expect(row()).toMatchObject({ locale: 'zh-Hans', topics: '["科技","要聞"]' });
  }, 60_000);
});
