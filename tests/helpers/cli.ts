import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/broadsheet.js');

/** Run the real CLI as a user would (no TTY: JSON logs on stderr). */
export function cli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, DEBUG: '', LOG_LEVEL: 'info', ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The global options that point a command at a test's own folder: config and
 * out inside `dir`, and the store there too unless one is given (a
 * PostgreSQL URL, say).
 */
export const workspaceArgs = (dir: string, store = join(dir, 'db.sqlite')) => [
  '--config',
  join(dir, 'broadsheet.config.yaml'),
  '--out',
  join(dir, 'out'),
  '--store',
  store,
];
