// The compiled CLI's cache of parsed configuration (src/config/cache.ts, issue
// 16): a repeated `status` loads neither the config module (zod, yaml, every
// schema) nor pino nor cli-progress, and every change that matters — the
// file's text, an env override, a new build — is seen, with the same output,
// errors and exit codes as the sources through tsx. On a copy of the checkout
// with its own dist/, so edits elsewhere in the tree cannot make it stale.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCopy } from '../helpers/built-copy.ts';
import { MODULE_TRACER } from '../helpers/module-trace.ts';
import { statusOf } from '../helpers/status-json.ts';

let dir: string;

function run(args: string[], env: NodeJS.ProcessEnv = {}, node: string[] = []) {
  const r = spawnSync(process.execPath, [...node, join(dir, 'bin/broadsheet.js'), ...args], {
    cwd: dir,
    env: {
      ...process.env,
      DEBUG: '',
      BROADSHEET_RUNTIME: '',
      BROADSHEET_DEBUG_RUNTIME: '1',
      BROADSHEET_TIMEZONE: '',
      BROADSHEET_PUBLIC_URL: '',
      LOG_FORMAT: 'json',
      ...env,
    },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr.replace(/broadsheet: runtime.*\n/, ''),
    runtime: /broadsheet: runtime (.*)/.exec(r.stderr)?.[1],
  };
}

const store = ['--store', 'data/cache-test.db'];
const cacheEntries = () => {
  const d = join(dir, 'dist/cache/config');
  return existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.v8')).length : 0;
};
/** status --json without the fields that change from one second to the next. */
const zonesOf = (stdout: string) =>
  (JSON.parse(stdout).jobs as { name: string; timezone: string }[]).map((j) => `${j.name} ${j.timezone}`);

beforeAll(() => {
  const copy = builtCopy('bs-config-cache-');
  dir = copy.dir;
  expect(copy.build.status, copy.build.stderr).toBe(0);
  writeFileSync(join(dir, 'tracer.mjs'), MODULE_TRACER);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('config cache of the compiled CLI', () => {
  it('a repeated status loads no config module, pino or cli-progress, and prints what tsx prints', () => {
    const first = run(['status', '--json', ...store]);
    expect([first.code, first.runtime], first.stderr).toEqual([0, 'dist']);
    expect(cacheEntries()).toBe(1);

    // The chunk holding src/config/load.ts (zod schemas, yaml), from esbuild's metafile.
    const meta = JSON.parse(readFileSync(join(dir, 'dist/meta.json'), 'utf8')) as {
      outputs: Record<string, { inputs: Record<string, unknown> }>;
    };
    const loadChunk = Object.entries(meta.outputs).find(
      ([out, o]) => out.endsWith('.js') && 'src/config/load.ts' in o.inputs,
    )?.[0];
    expect(loadChunk).toBeDefined();
    const trace = join(dir, 'trace.txt');
    writeFileSync(trace, '');
    const second = run(['status', '--json', ...store], { TRACE_FILE: trace }, [
      '--import',
      join(dir, 'tracer.mjs'),
    ]);
    expect([second.code, second.runtime], second.stderr).toEqual([0, 'dist']);
    const loaded = readFileSync(trace, 'utf8');
    expect(loaded).toContain('/dist/main.js'); // the tracer saw the chunks that did load
    expect(loaded).not.toContain(loadChunk!.replace(/^dist\//, '/dist/'));
    for (const pkg of ['pino', 'cli-progress']) expect(loaded, pkg).not.toContain(`/node_modules/${pkg}/`);

    const tsx = run(['status', '--json', ...store], { BROADSHEET_RUNTIME: 'tsx' });
    expect(tsx.code, tsx.stderr).toBe(0);
    expect(statusOf(second.stdout)).toEqual(statusOf(tsx.stdout));
    expect(statusOf(first.stdout)).toEqual(statusOf(tsx.stdout));
  });

  it('sees every change to the file and to the env overrides, with the errors and exit codes of tsx', () => {
    const file = join(dir, 'cache-test.yaml');
    const cfg = ['--config', file, ...store, 'status', '--json'];
    const base = readFileSync(join(dir, 'broadsheet.config.yaml'), 'utf8');
    writeFileSync(file, base);
    const hk = run(cfg);
    expect(hk.code, hk.stderr).toBe(0);
    expect(zonesOf(hk.stdout)).toContain('daily Asia/Hong_Kong');

    // The same file with another zone: parsed anew, not the cached Hong Kong.
    writeFileSync(file, base.replace(/^timezone: Asia\/Hong_Kong$/m, 'timezone: Europe/London'));
    const london = run(cfg);
    expect(london.code, london.stderr).toBe(0);
    expect(zonesOf(london.stdout)).toContain('daily Europe/London');

    // An env override beats the file, cached or not.
    const tokyo = run(cfg, { BROADSHEET_TIMEZONE: 'Asia/Tokyo' });
    expect(zonesOf(tokyo.stdout)).toContain('daily Asia/Tokyo');
    expect(zonesOf(run(cfg).stdout)).toContain('daily Europe/London');
    const badEnv = run(cfg, { BROADSHEET_TIMEZONE: 'Nowhere/Else' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('timezone');
    expect(badEnv.stderr).toContain('not an IANA time zone');

    // A broken file after a cached good one: the error, word for word, and the exit code of tsx.
    writeFileSync(file, base.replace(/^timezone: Asia\/Hong_Kong$/m, 'timezone: Mars/Olympus_Mons'));
    const bad = run(cfg);
    const badTsx = run(cfg, { BROADSHEET_RUNTIME: 'tsx' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('CONFIG_INVALID');
    expect([bad.code, bad.stderr]).toEqual([badTsx.code, badTsx.stderr]);
    const again = run(cfg);
    expect([again.code, again.stderr]).toEqual([bad.code, bad.stderr]);

    // Back to the first text: the first entry answers, still Hong Kong.
    writeFileSync(file, base);
    expect(zonesOf(run(cfg).stdout)).toContain('daily Asia/Hong_Kong');

    // A --config file that is not there is still an error, never the defaults from a cache.
    rmSync(file);
    const gone = run(cfg);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('CONFIG_UNREADABLE');
  });

  it('a torn cache entry is a miss, and a new build empties the cache', () => {
    run(['status', ...store]);
    const d = join(dir, 'dist/cache/config');
    for (const f of readdirSync(d)) writeFileSync(join(d, f), 'not a cache entry');
    const r = run(['status', '--json', ...store]);
    expect(r.code, r.stderr).toBe(0);
    expect(zonesOf(r.stdout)).toContain('daily Asia/Hong_Kong');
    const b = spawnSync(process.execPath, [join(dir, 'scripts/build.mjs')], { encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    expect(cacheEntries()).toBe(0);
  });
});
