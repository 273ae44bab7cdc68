// The compiled CLI (issue 16): bin/broadsheet.js runs dist/ only while
// dist/stamp.json matches the sources, falls back to tsx without an error when
// it does not, prints the same either way, and --help / status load none of
// the heavy stage modules. On a copy of the checkout with its own dist/, so
// edits elsewhere in the tree cannot make it stale mid-test.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCopy } from '../helpers/built-copy.ts';
import { MODULE_TRACER } from '../helpers/module-trace.ts';

let dir: string;
const HEAVY = [
  'mjml',
  'satori',
  '@resvg/resvg-js',
  'playwright-core',
  'nodemailer',
  'hono',
  'sharp',
  'liquidjs',
];

function run(args: string[], env: NodeJS.ProcessEnv = {}, node: string[] = []) {
  const r = spawnSync(process.execPath, [...node, join(dir, 'bin/broadsheet.js'), ...args], {
    cwd: dir,
    env: { ...process.env, DEBUG: '', BROADSHEET_RUNTIME: '', BROADSHEET_DEBUG_RUNTIME: '1', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    runtime: /broadsheet: runtime (.*)/.exec(r.stderr)?.[1],
  };
}

beforeAll(() => {
  const copy = builtCopy('bs-cli-start-');
  dir = copy.dir;
  expect(copy.build.status, copy.build.stderr).toBe(0);
  writeFileSync(join(dir, 'tracer.mjs'), MODULE_TRACER);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('compiled CLI', () => {
  it('runs dist/ when current, and prints what the sources print', () => {
    const dist = run(['--help']);
    expect(dist.code).toBe(0);
    expect(dist.runtime).toBe('dist');
    expect(dist.stdout).toContain('Usage: broadsheet');
    const tsx = run(['--help'], { BROADSHEET_RUNTIME: 'tsx' });
    expect(tsx.runtime).toMatch(/^tsx/);
    expect(tsx.stdout).toBe(dist.stdout);
    const bad = run(['no-such-command']);
    const badTsx = run(['no-such-command'], { BROADSHEET_RUNTIME: 'tsx' });
    expect([bad.code, bad.runtime]).toEqual([2, 'dist']);
    expect(badTsx.code).toBe(2);
    expect(bad.stderr.replace(/broadsheet: runtime.*\n/, '')).toBe(
      badTsx.stderr.replace(/broadsheet: runtime.*\n/, ''),
    );
  });

  it.each([[['--help']], [['status', '--store', 'data/trace.db']]])(
    '%j loads none of the heavy stage modules',
    (args) => {
      const trace = join(dir, `trace-${args[0]}.txt`);
      writeFileSync(trace, '');
      const r = run(args, { TRACE_FILE: trace }, ['--import', join(dir, 'tracer.mjs')]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.runtime).toBe('dist');
      const loaded = readFileSync(trace, 'utf8');
      expect(loaded).toContain('commander'); // the tracer saw the packages that did load
      for (const pkg of HEAVY) expect(loaded, pkg).not.toContain(`/node_modules/${pkg}/`);
    },
  );

  it('a source file changed after the build sends the start through tsx, with no error', () => {
    const file = join(dir, 'src/cli/commands/status.ts');
    const later = new Date(Date.now() + 5_000);
    utimesSync(file, later, later);
    const r = run(['--version']);
    expect(r.code).toBe(0);
    expect(r.runtime).toBe('tsx (src/cli/commands/status.ts changed since the build)');
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version);
    // Rebuilt, dist/ is current again.
    spawnSync(process.execPath, [join(dir, 'scripts/build.mjs')]);
    expect(run(['--version']).runtime).toBe('dist');
    // No dist/ at all (npm install --ignore-scripts): tsx.
    rmSync(join(dir, 'dist'), { recursive: true });
    const none = run(['--version']);
    expect([none.code, none.runtime]).toEqual([0, 'tsx (no dist/ (run npm run build))']);
  });
});
