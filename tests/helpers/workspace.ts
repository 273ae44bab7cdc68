import { cpSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli.ts';

/**
 * A temp copy of the working setup a new user has after cloning: content/,
 * templates/, broadsheet.config.yaml and package.json (its "type": "module"
 * is what lets the card layouts in templates/ load as ES modules), and src/
 * as a link (templates/cards/quote.ts imports ../../src/util/quotes.ts at run
 * time). Output and store land inside it, at their default paths.
 */
export function copyWorkingSetup(prefix = 'bs-setup-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const p of ['content', 'templates', 'broadsheet.config.yaml', 'package.json'])
    cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  symlinkSync(join(ROOT, 'src'), join(dir, 'src'));
  return dir;
}

/** The environment of a user with nothing set up: no SMTP_URL, no .env overrides. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of [
    'SMTP_URL',
    'BROADSHEET_SECRET',
    'BROADSHEET_PUBLIC_URL',
    'DATABASE_URL',
    'DKIM_PRIVATE_KEY_FILE',
  ])
    delete env[k];
  return { ...env, ...extra };
}
