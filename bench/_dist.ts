import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// Benches that spawn the checkout's bin/broadsheet.js must time what a user
// runs: the compiled dist/. bin/ falls back to the TypeScript sources through
// tsx whenever a source changed since the last build (slower, and ~90 MB more
// memory: bench/import read 301–304 MB for a stale dist against 212–267 MB).
// So: build first (scripts/build.mjs, ~1 s) unless bin/broadsheet.js itself
// says it would run dist/ (its own stamp check, ~0.2 s), and say which runtime ran.
// Not rebuilt when current: the test suite calls this in its global setup and
// again inside fanout-acceptance's script, and a rebuild in the middle of a
// run rewrote dist/ under CLI tests starting at that moment.
export function ensureDist(): void {
  const root = join(import.meta.dirname, '..');
  const { BROADSHEET_RUNTIME: _, ...env } = process.env;
  const probe = spawnSync(process.execPath, [join(root, 'bin/broadsheet.js'), '--help'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...env, BROADSHEET_DEBUG_RUNTIME: '1' },
  });
  if (probe.status === 0 && runtimeOf(probe.stderr) === 'dist') return;
  const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/build.mjs failed: ${r.stderr}`);
}

/** The runtime bin/broadsheet.js reported on stderr (with BROADSHEET_DEBUG_RUNTIME=1). */
export const runtimeOf = (stderr: string) => /broadsheet: runtime (\w+)/.exec(stderr)?.[1] ?? 'unknown';
