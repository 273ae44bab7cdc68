// The digest of a real `build` of the sample (its local photos resized into
// digest/images/), as a phone shows it: with images on, every picture keeps its
// own proportions; with images off, nothing is wider than the screen. The
// fixture-based screenshot tests render without the build's picture sizes, so
// this walks the path readers get.
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.ts';
import { cli, workspaceArgs } from '../helpers/cli.ts';
import { needs } from '../helpers/system.ts';
import { cleanEnv, copyWorkingSetup } from '../helpers/workspace.ts';

const EDITION = 'daily-2025-12-10';

describe.skipIf(!needs('chromium', 'chromium'))('the built digest on a phone', () => {
  let dir: string;
  let html: string;
  let browser: BrowserContext;

  beforeAll(async () => {
    dir = copyWorkingSetup('bs-email-real-');
    appendFileSync(join(dir, 'broadsheet.config.yaml'), '\ncards:\n  formats: [og]\n  kinds: [statset]\n');
    const r = cli(['build', ...workspaceArgs(dir)], { cwd: dir, env: cleanEnv() });
    expect(r.code, r.stderr).toBe(0);
    html = readFileSync(join(dir, 'out', EDITION, 'digest', 'index.html'), 'utf8');
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const open = async (width: number, images: boolean) => {
    const page = await browser.newPage();
    await page.setViewportSize({ width, height: 900 });
    const imagesDir = join(dir, 'out', EDITION, 'digest', 'images');
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (images && route.request().resourceType() === 'image' && url.includes('/images/'))
        return route.fulfill({
          status: 200,
          contentType: 'image/jpeg',
          body: readFileSync(join(imagesDir, url.split('/').pop()!)),
        });
      return route.abort();
    });
    await page.setContent(html, { waitUntil: 'load' });
    return page;
  };

  it('has pictures, and each keeps its proportions at 320, 375 and 600 px', async () => {
    for (const width of [320, 375, 600]) {
      const page = await open(width, true);
      const imgs = await page.evaluate(() =>
        Array.from(document.images).map((i) => ({
          src: i.src,
          shown: i.getBoundingClientRect().width / i.getBoundingClientRect().height,
          natural: i.naturalWidth / i.naturalHeight,
        })),
      );
      expect(imgs.length).toBeGreaterThan(0);
      for (const i of imgs) {
        expect(i.natural, i.src).toBeGreaterThan(0);
        expect(Math.abs(i.shown / i.natural - 1), `${i.src} at ${width}px`).toBeLessThan(0.02);
      }
      await page.close();
    }
  });

  it('is never wider than the screen, images on or off', async () => {
    for (const images of [true, false])
      for (const width of [320, 375]) {
        const page = await open(width, images);
        const { scrollWidth, innerWidth } = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
        }));
        expect(scrollWidth, `${width}px, images ${images ? 'on' : 'off'}`).toBeLessThanOrEqual(innerWidth);
        await page.close();
      }
  });
});
