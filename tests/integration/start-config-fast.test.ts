// A start of the compiled CLI that finds no cached config (after a config
// edit or a build) validates the file with only the sections it has
// (src/config/fast.ts, issue 16): the sample file loads neither the whole
// schema (load.ts, schema.ts) nor the schemas of sections it lacks, and prints
// what the sources print through tsx; a file with a problem is still reported
// by load.ts, word for word as under tsx. On a copy with its own dist/.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';
import { MODULE_TRACER } from '../helpers/module-trace.ts';

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
    stderr: r.stderr.replace(/broadsheet: runtime.*\n/, ''),
    runtime: /broadsheet: runtime (.*)/.exec(r.stderr)?.[1],
    loaded: (src: string) => traced.includes(`/${chunkOf(src)}`),
  };
}

const statusOf = (stdout: string) => {
  const s = JSON.parse(stdout);
  delete s.generatedAt;
  return s;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bs-config-fast-'));
  for (const p of ['bin', 'scripts', 'src', 'templates', 'content', 'broadsheet.config.yaml', 'package.json'])
    cpSync(join(ROOT, p), join(dir, p), { recursive: true, preserveTimestamps: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const b = spawnSync(process.execPath, [join(dir, 'scripts/build.mjs')], { encoding: 'utf8' });
  expect(b.status, b.stderr).toBe(0);
  writeFileSync(join(dir, 'tracer.mjs'), MODULE_TRACER);
  const meta = JSON.parse(readFileSync(join(dir, 'dist/meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  chunkOf = (src) => {
    const out = Object.entries(meta.outputs).find(([o, v]) => o.endsWith('.js') && src in v.inputs)?.[0];
    if (!out) throw new Error(`no chunk holds ${src}`);
    return out;
  };
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a config-cache miss builds only the sections the file has', () => {
  it('the sample file: no whole schema, no absent section, the output of tsx', () => {
    const r = run(['status', '--json', '--store', 'data/fast.db']);
    expect([r.code, r.runtime], r.stderr).toEqual([0, 'dist']);
    expect(r.loaded('src/config/fast.ts')).toBe(true); // the trace works
    for (const src of [
      'src/config/load.ts',
      'src/config/schema.ts',
      'src/webhooks/config.ts',
      'src/inbound/config.ts',
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
    expect(ok.loaded('src/webhooks/config.ts')).toBe(true);
    expect(ok.loaded('src/config/load.ts')).toBe(false);

    writeFileSync(file, `${base}\nwebhooks:\n  maxAgeSeconds: 1\n`);
    const bad = run(cfg);
    const badTsx = run(cfg, { BROADSHEET_RUNTIME: 'tsx' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('webhooks.maxAgeSeconds (line');
    expect([bad.code, bad.stderr]).toEqual([badTsx.code, badTsx.stderr]);
    expect(bad.loaded('src/config/load.ts')).toBe(true);
  });
});
