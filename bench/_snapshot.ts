// A frozen copy of the checkout for the start and rebuild benches: other work
// in the tree (an editor saving a file) would make dist/ stale mid-run and
// send some samples through tsx. The copy has its own dist/, built here, and
// node_modules as a link.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { builtCopy } from '../tests/helpers/built-copy.ts';
import { ROOT } from '../tests/helpers/cli.ts';
import { runtimeOf } from './_dist.ts';

export { ROOT };

export function snapshot(prefix: string): { dir: string; buildMs: number; remove: () => void } {
  const { dir, build, buildMs } = builtCopy(prefix);
  if (build.status !== 0) throw new Error(`build failed: ${build.stderr}`);
  return { dir, buildMs, remove: () => rmSync(dir, { recursive: true, force: true }) };
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
  const runtime = runtimeOf(r.stderr);
  return { ms, runtime, stdout: r.stdout, stderr: r.stderr };
}
