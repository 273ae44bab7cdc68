// The seed digest in Debian Chromium at phone and desktop widths, light and
// dark: no horizontal scroll. PNGs land in tests/.tmp/ (git-ignored) for a
// human to look at. Network is cut: images get a local placeholder.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeRecipient, renderDigest } from '../../src/email/index.ts';
import { emailContext, RECIPIENT, ROOT, seedEdition, storiesEdition } from '../fixtures/email/fixtures.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { needs } from '../helpers/system.ts';

const OUT = join(ROOT, 'tests/.tmp');

function placeholder(w: number, h: number): Buffer {
  const png = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) png.data.set([150, 140, 128, 255], i * 4);
  return PNG.sync.write(png);
}

describe.skipIf(!needs('chromium', 'chromium'))('digest in Chromium', () => {
  let browser: BrowserContext;
  const pages: Record<string, string> = {};

  beforeAll(async () => {
    const ctx = emailContext();
    const seed = await seedEdition(ctx);
    pages.seed = mergeRecipient(await renderDigest(seed, ctx), RECIPIENT).html;
    pages.twenty = mergeRecipient(await renderDigest(storiesEdition(seed, 20), ctx), RECIPIENT).html;
    await mkdir(OUT, { recursive: true });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  for (const name of ['seed', 'twenty'])
    for (const width of [375, 600])
      for (const scheme of ['light', 'dark'] as const)
        it(`${name} at ${width}px (${scheme}) has no horizontal scroll`, async () => {
          const page = await browser.newPage();
          await page.setViewportSize({ width, height: 900 });
          await page.emulateMedia({ colorScheme: scheme });
          const img = placeholder(600, 338);
          await page.route('**/*', (route) =>
            route.request().resourceType() === 'image'
              ? route.fulfill({ status: 200, contentType: 'image/png', body: img })
              : route.abort(),
          );
          await page.setContent(pages[name]!, { waitUntil: 'load' });
          const { scrollWidth, innerWidth } = await page.evaluate(() => ({
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
          }));
          expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
          await page.screenshot({ path: join(OUT, `email-${name}-${width}-${scheme}.png`), fullPage: true });
          await page.close();
        });
});
