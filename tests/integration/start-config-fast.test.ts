// A start of the compiled CLI that finds no cached config (after a config
// edit or a build) validates the file with only the sections it has
// (src/config/fast.ts, issue 16), from the build's CommonJS copy with its V8
// code cache (dist/config-fast.cjs, .code): it loads neither the whole schema
// (load.ts, schema.ts) nor the ES module zod or yaml, and prints what the
// sources print through tsx; a file with a problem is still reported by
// load.ts, word for word as under tsx. On a copy with its own dist/.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCopy } from '../helpers/built-copy.ts';
import { MODULE_TRACER } from '../helpers/module-trace.ts';
import { statusOf } from '../helpers/status-json.ts';

let dir: string;
let chunkOf: (src: string) => string;

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const trace = join(dir, 'trace.txt');
  writeFileSync(trace, '');
  // Every run here is a miss: the cache of parsed configs is emptied first.
  rmSync(join(dir, 'dist/cache'), { recursive: true, force: true });
  const r = spawnSync(
    process.execPath,
    ['--import', join(dir, 'tracer.mjs'), join(dir, 'bin/broadsheet.js'), ...args],
    {
      cwd: dir,
      env: {
        ...process.env,
        DEBUG: '',
        BROADSHEET_RUNTIME: '',
        BROADSHEET_DEBUG_RUNTIME: '1',
        BROADSHEET_DEBUG_CONFIG: '1',
        BROADSHEET_TIMEZONE: '',
        BROADSHEET_PUBLIC_URL: '',
        BROADSHEET_LOCALE: '',
        LOG_FORMAT: 'json',
        TRACE_FILE: trace,
        ...env,
      },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  const traced = readFileSync(trace, 'utf8');
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr.replace(/broadsheet: (runtime|config).*\n/g, ''),
    config: /broadsheet: config (.*)/.exec(r.stderr)?.[1],
    runtime: /broadsheet: runtime (.*)/.exec(r.stderr)?.[1],
    loaded: (src: string) => traced.includes(`/${chunkOf(src)}`),
  };
}

beforeAll(() => {
  const copy = builtCopy('bs-config-fast-');
  dir = copy.dir;
  expect(copy.build.status, copy.build.stderr).toBe(0);
  writeFileSync(join(dir, 'tracer.mjs'), MODULE_TRACER);
  const meta = JSON.parse(readFileSync(join(dir, 'dist/meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  chunkOf = (src) => {
    const out = Object.entries(meta.outputs).find(
      ([o, v]) => o.endsWith('.js') && Object.keys(v.inputs).some((i) => i === src || i.endsWith(`/${src}`)),
    )?.[0];
    if (!out) throw new Error(`no chunk holds ${src}`);
    return out;
  };
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a config-cache miss builds only the sections the file has', () => {
  it('the sample file: no whole schema, no ES module zod or yaml, the output of tsx', () => {
    const r = run(['status', '--json', '--store', 'data/fast.db']);
    expect([r.code, r.runtime], r.stderr).toEqual([0, 'dist']);
    expect(r.config).toBe('validated by section (config-fast.cjs, code cache used)');
    expect(r.loaded('src/config/fast-loader.ts')).toBe(true); // the trace works
    for (const src of [
      'src/config/load.ts',
      'src/config/schema.ts',
      'src/config/fast.ts',
      'node_modules/zod/v4/core/schemas.js',
      'node_modules/yaml/browser/dist/parse/parser.js',
    ])
      expect(r.loaded(src), src).toBe(false);
    const tsx = run(['status', '--json', '--store', 'data/fast.db'], { BROADSHEET_RUNTIME: 'tsx' });
    expect(tsx.code, tsx.stderr).toBe(0);
    expect(statusOf(r.stdout)).toEqual(statusOf(tsx.stdout));
  });

  it('a section the file has is built; a problem is reported by load.ts as under tsx', () => {
    const file = join(dir, 'fast.yaml');
    const base = readFileSync(join(dir, 'broadsheet.config.yaml'), 'utf8');
    const cfg = ['--config', file, 'status', '--json', '--store', 'data/fast.db'];

    writeFileSync(file, `${base}\nwebhooks:\n  maxAgeSeconds: 60\n`);
    const ok = run(cfg);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.config).toMatch(/^validated by section/);
    expect(ok.loaded('src/config/load.ts')).toBe(false);
    const okTsx = run(cfg, { BROADSHEET_RUNTIME: 'tsx' });
    expect(statusOf(ok.stdout)).toEqual(statusOf(okTsx.stdout));

    writeFileSync(file, `${base}\nwebhooks:\n  maxAgeSeconds: 1\n`);
    const bad = run(cfg);
    const badTsx = run(cfg, { BROADSHEET_RUNTIME: 'tsx' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('webhooks.maxAgeSeconds (line');
    expect([bad.code, bad.stderr]).toEqual([badTsx.code, badTsx.stderr]);
    expect(bad.config).toBe('handed to load.ts');
    expect(bad.loaded('src/config/load.ts')).toBe(true);
  });

  it('a missing or foreign code cache is written anew; a damaged or missing compiled copy falls back to the module', () => {
    const code = join(dir, 'dist/config-fast.code');
    const args = ['status', '--json', '--store', 'data/fast.db'];
    const want = statusOf(run(args).stdout);
    rmSync(code);
    const written = run(args);
    expect(written.config).toBe('validated by section (config-fast.cjs, code cache written)');
    expect(statusOf(written.stdout)).toEqual(want);
    expect(run(args).config).toBe('validated by section (config-fast.cjs, code cache used)');
    writeFileSync(code, 'not a code cache');
    const foreign = run(args);
    expect(foreign.config).toBe('validated by section (config-fast.cjs, code cache written)');
    expect(statusOf(foreign.stdout)).toEqual(want);
    writeFileSync(
      join(dir, 'dist/config-fast.cjs'),
      '(function (exports, require, module, __filename, __dirname) {',
    );
    const damaged = run(args);
    expect(damaged.config).toBe('validated by section (fast.ts)');
    expect(statusOf(damaged.stdout)).toEqual(want);
    rmSync(join(dir, 'dist/config-fast.cjs'));
    const module = run(args);
    expect(module.config).toBe('validated by section (fast.ts)');
    expect(statusOf(module.stdout)).toEqual(want);
  });
});
