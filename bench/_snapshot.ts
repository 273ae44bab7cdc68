// A frozen copy of the checkout for the start and rebuild benches: other work
// in the tree (an editor saving a file) would make dist/ stale mid-run and
// send some samples through tsx. The copy has its own dist/, built here, and
// node_modules as a link.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');

export function snapshot(prefix: string): { dir: string; buildMs: number; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const p of ['bin', 'scripts', 'src', 'templates', 'content', 'broadsheet.config.yaml', 'package.json'])
    cpSync(join(ROOT, p), join(dir, p), { recursive: true, preserveTimestamps: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const t = performance.now();
  const r = spawnSync(process.execPath, [join(dir, 'scripts/build.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
  return {
    dir,
    buildMs: performance.now() - t,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Spawn `node args…` in `cwd`; wall time in ms, and the runtime bin/broadsheet.js reported. */
export function timed(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, {
    cwd,
    env: { ...process.env, DEBUG: '', BROADSHEET_DEBUG_RUNTIME: '1', ...env },
    encoding: 'utf8',
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const runtime = /broadsheet: runtime (\w+)/.exec(r.stderr)?.[1];
  return { ms, runtime, stdout: r.stdout, stderr: r.stderr };
}
