import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/**
 * Debian's Chromium, headless, with a fresh profile. The background-networking
 * flags matter here: without them Chromium keeps dialling Google's hosts, which
 * this machine's closed network refuses. `close()` also removes the profile.
 */
export async function launchChromium(
  options: Omit<Parameters<typeof chromium.launchPersistentContext>[1], 'executablePath' | 'args'> = {},
): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'bs-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
    ...options,
  });
  // Remove the profile once the browser has really gone; Chromium may still be
  // flushing files into it for a moment, so retry, and never fail a test over it.
  const close = browser.close.bind(browser);
  browser.close = async (opts) => {
    await close(opts);
    await rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }).catch(() => {});
  };
  return browser;
}
