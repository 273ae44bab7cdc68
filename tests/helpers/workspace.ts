import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli.ts';

/**
 * A temp copy of the working setup a new user has after cloning: content/,
 * templates/, broadsheet.config.yaml and package.json. Output and store land
 * inside it, at their default paths. (templates/ needs nothing around it: its
 * own package.json makes the card layouts ES modules, and they take all they
 * use from the layout kit — see workspace-templates.test.ts.)
 */
export function copyWorkingSetup(prefix = 'bs-setup-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const p of ['content', 'templates', 'broadsheet.config.yaml', 'package.json'])
    cpSync(join(ROOT, p), join(dir, p), { recursive: true });
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
