// The edition report page in Debian Chromium, at a phone's 375 px and a
// laptop's 1024 px: no horizontal scroll on the phone, the chart drawn at a
// readable size. Screenshots land in tests/.tmp/ (git-ignored) for a human.
import { mkdirSync, mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReviewApp } from '../../src/review/app.ts';
import type { DB } from '../../src/store/db.ts';
import { writeManifest } from '../fixtures/report/manifest.ts';
import { EDITION, fillStore, T0 } from '../fixtures/report/store.ts';
import { PASSWORD, reviewContext } from '../fixtures/review/edition.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { ROOT } from '../helpers/cli.ts';
import { needs } from '../helpers/system.ts';

const SHOTS = join(ROOT, 'tests/.tmp');

describe.skipIf(!needs('chromium', 'chromium'))('report page in Chromium', () => {
  let db: DB;
  let server: ReturnType<typeof serve>;
  let base: string;
  let browser: BrowserContext;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const dir = mkdtempSync(join(tmpdir(), 'bs-report-e2e-'));
    const ctx = reviewContext(dir, { timezone: 'Asia/Hong_Kong' });
    db = fillStore(ctx.paths.store);
    writeManifest(ctx.paths.out);
    // A morning's worth of clicks, so the chart has a shape to look at.
    const click = db.prepare(
      "INSERT INTO clicks (edition, story, visitor, method, scanner, at) VALUES (?, 'china-ai-patents-lead', ?, 'GET', 0, ?)",
    );
    for (let i = 0; i < 300; i++) {
      const hour = Math.floor(Math.abs(Math.sin(i * 7.3)) ** 2 * 30);
      click.run(EDITION, `e2e-${i % 7}`, new Date(T0 + 60_000 + hour * 3_600_000 + i * 1000).toISOString());
    }
    const app = createReviewApp(ctx, { db });
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium({ locale: 'zh-HK' });
    const page = await browser.newPage();
    await page.goto(`${base}/report/${EDITION}`);
    expect(page.url()).toContain('/login');
    await page.fill('#name', '陳編輯');
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(`${base}/report/${EDITION}`), page.click('button[type=submit]')]);
    await page.close();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
    db?.close();
  });

  for (const width of [375, 1024]) {
    it(`renders at ${width} px without horizontal scroll, chart visible`, async () => {
      const page = await browser.newPage();
      await page.setViewportSize({ width, height: 800 });
      await page.goto(`${base}/report/${EDITION}`);
      const m = await page.evaluate(() => {
        const svg = document.querySelector('figure.chart svg')!.getBoundingClientRect();
        return {
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
          svgWidth: svg.width,
          svgHeight: svg.height,
          bars: document.querySelectorAll('figure.chart rect').length,
          stats: document.querySelectorAll('.stats .stat').length,
        };
      });
      expect(m.scroll).toBeLessThanOrEqual(m.client);
      expect(m.svgWidth).toBeGreaterThan(width > 600 ? 600 : 300);
      expect(m.svgHeight).toBeGreaterThan(100);
      expect(m.bars).toBeGreaterThan(10);
      expect(m.stats).toBeGreaterThanOrEqual(11);
      await page.screenshot({ path: join(SHOTS, `report-${width}.png`), fullPage: true });
      await page.close();
    }, 60_000);
  }
});
