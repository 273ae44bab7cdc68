import { mkdtempSync, rmSync } from 'node:fs';
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
  browser.on('close', () => rmSync(profile, { recursive: true, force: true }));
  return browser;
}
