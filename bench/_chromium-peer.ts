// The Chromium peer of the card benches (bench/cards.ts, bench/cards-before.ts):
// headless Debian Chromium, one page reused, drawing a card job as HTML/CSS
// with the same fonts. The layout and typesetting (cardTree) run inside its
// timing, as they do inside ours.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FONT_FAMILY, loadFonts } from '../src/cards/fonts.ts';
import { cardHtml } from '../src/cards/html.ts';
import { type CardJob, cardTree } from '../src/cards/render.ts';
import { launchChromium } from '../tests/helpers/chromium.ts';

export interface ChromiumPeer {
  /** The card as Chromium's PNG screenshot. */
  draw(job: CardJob): Promise<Buffer>;
  close(): Promise<void>;
}

/** The peer, or why it could not be started (no Chromium installed). */
export async function chromiumPeer(): Promise<ChromiumPeer | { skipped: string }> {
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  try {
    browser = await launchChromium({ headless: true, viewport: { width: 1200, height: 630 } });
  } catch (err) {
    return { skipped: (err as Error).message.split('\n')[0]! };
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-chromium-page-'));
  const page = browser.pages()[0] ?? (await browser.newPage());
  const blank = join(dir, 'blank.html');
  writeFileSync(blank, '<!doctype html><html></html>');
  await page.goto(`file://${blank}`); // a file: origin, so @font-face file URLs load
  const fonts = loadFonts().map((f) => ({ file: f.file, weight: f.weight }));
  return {
    async draw(job) {
      await page.setContent(cardHtml(await cardTree(job), fonts, FONT_FAMILY));
      await page.evaluate(() => document.fonts.ready);
      return page.screenshot({ type: 'png' });
    },
    async close() {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
