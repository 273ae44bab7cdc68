import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasProgram } from './system.ts';

// Real file-system faults for tests, without touching the host's mounts:
// `unshare --mount --map-root-user` gives the child its own mount namespace
// (root or not, where user namespaces are allowed), so a read-only bind mount
// or a tiny tmpfs exists only for that child and vanishes with it. chmod is no
// use here: the tests run as root, and root ignores mode bits.

let probed: boolean | undefined;

function probe(): boolean {
  if (!hasProgram('unshare')) return false;
  const dir = mkdtempSync(join(tmpdir(), 'bs-mount-probe-'));
  try {
    const r = spawnSync(
      'unshare',
      ['--mount', '--map-root-user', 'sh', '-c', 'mount -t tmpfs -o size=16k tmpfs "$1"', 'sh', dir],
      { encoding: 'utf8' },
    );
    return r.status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * True when a child can get a private mount namespace. In CI (CI=true) a
 * missing mechanism fails the test run; elsewhere the test is skipped with a
 * message naming what is missing.
 */
export function needsPrivateMounts(): boolean {
  probed ??= probe();
  if (probed) return true;
  const what =
    'unshare --mount --map-root-user with tmpfs and bind mounts (util-linux; user namespaces enabled, or root)';
  if (process.env.CI) throw new Error(`missing in CI: ${what}`);
  console.warn(`SKIPPED: needs ${what}`);
  return false;
}

/**
 * Run `setup` (sh, with $1… = args) in a private mount namespace, then
 * `command` there, then `after` (e.g. list what the command left on the
 * mount, which only exists inside). Returns the command's exit code and output.
 */
export function inPrivateMounts(
  setup: string,
  args: string[],
  command: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; after?: string } = {},
) {
  const after = opts.after ?? '';
  // After the shift "$@" is the command; `after` reaches the arguments as $A_1, $A_2….
  const keep = args.map((_, i) => `A_${i + 1}="$${i + 1}"`).join('; ');
  const script = `set -e\n${keep}\n${setup}\nset +e\nshift ${args.length}\n"$@"\nrc=$?\n${after}\nexit $rc`;
  const r = spawnSync(
    'unshare',
    ['--mount', '--map-root-user', 'sh', '-c', script, 'sh', ...args, ...command],
    {
      cwd: opts.cwd,
      env: { ...process.env, DEBUG: '', LOG_LEVEL: 'info', ...opts.env },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
