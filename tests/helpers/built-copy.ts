import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli.ts';

/**
 * A frozen copy of the checkout with its own dist/ (scripts/build.mjs run in
 * it) and node_modules as a link: what the compiled-CLI tests and the start,
 * rebuild and memory benches run, so that an edit elsewhere in the tree cannot
 * make dist/ stale mid-run. `build` is the build's spawn result.
 */
export function builtCopy(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const p of ['bin', 'scripts', 'src', 'templates', 'content', 'broadsheet.config.yaml', 'package.json'])
    cpSync(join(ROOT, p), join(dir, p), { recursive: true, preserveTimestamps: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const t = performance.now();
  const build = spawnSync(process.execPath, [join(dir, 'scripts/build.mjs')], { encoding: 'utf8' });
  return { dir, build, buildMs: performance.now() - t };
}
