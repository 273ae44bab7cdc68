import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';

// scripts/dynamic-import.mjs is how the compiled CLI imports the card layouts
// (templates/cards/*.ts). A self-contained TypeScript file is compiled by
// esbuild in memory, so tsx's module-hooks worker thread (~40 MB of a build's
// peak RSS) is never started; anything else still goes through tsx. Each case
// runs in a plain `node` child: registering tsx is process-wide.
const dir = mkdtempSync(join(tmpdir(), 'bs-dynimport-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const helper = pathToFileURL(join(ROOT, 'scripts/dynamic-import.mjs')).href;

/** Import `file` through __bsImport in a fresh node, then report whether tsx got registered. */
function importIn(file: string) {
  const script = `
    const { __bsImport } = await import(${JSON.stringify(helper)});
    const out = {};
    try {
      const m = await __bsImport(import.meta.url, ${JSON.stringify(pathToFileURL(file).href)});
      out.value = m.default({ n: 20 });
    } catch (e) { out.error = String(e?.message ?? e); }
    // Without tsx's hooks, node refuses a .ts import.
    out.tsxRegistered = await import(${JSON.stringify(pathToFileURL(join(dir, 'probe.ts')).href)}).then(() => true, () => false);
    const { readFileSync } = await import('node:fs');
    out.threads = Number(/Threads:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
    console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
    value?: unknown;
    error?: string;
    tsxRegistered: boolean;
  };
}

// As templates/package.json does for the layouts: .ts files here are ES modules.
writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
// A package import resolves as it would in a newsroom folder with its own node_modules.
symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
writeFileSync(join(dir, 'probe.ts'), 'export const x: number = 1;\n');
writeFileSync(
  join(dir, '_shared.ts'),
  "import { join } from 'node:path';\nexport const twice = (n: number): number => n * 2;\nexport const where = (): string => join('a', 'b');\n",
);

describe('__bsImport (compiled CLI, computed imports of TypeScript)', () => {
  it('compiles a layout-like file with relative and type-only imports without registering tsx', () => {
    const file = join(dir, 'layout.ts');
    writeFileSync(
      file,
      [
        "import type { CardNode } from '../../src/cards/layout-api.ts';",
        "import { twice, where } from './_shared.ts';",
        'interface In { n: number }',
        'export default function layout(d: In): { n: number; at: string; node?: CardNode } {',
        '  return { n: twice(d.n), at: where() };',
        '}',
      ].join('\n'),
    );
    const r = importIn(file);
    expect(r.error).toBeUndefined();
    expect(r.value).toEqual({ n: 40, at: join('a', 'b') });
    expect(r.tsxRegistered).toBe(false);
  });

  it('falls back to tsx for a file that imports a package', () => {
    const file = join(dir, 'with-package.ts');
    writeFileSync(
      file,
      "import { parse } from 'yaml';\nexport default (d: { n: number }): number => parse('v: ' + String(d.n)).v + 1;\n",
    );
    const r = importIn(file);
    expect(r.error).toBeUndefined();
    expect(r.value).toBe(21);
    expect(r.tsxRegistered).toBe(true);
  });

  it('names the file, line and column of a syntax error', () => {
    const file = join(dir, 'broken.ts');
    writeFileSync(file, 'export default function (d: { n: number }) {\n  return d.n +;\n}\n');
    const r = importIn(file);
    expect(r.error).toMatch(/broken\.ts:2:\d+: /);
  });
});

// What esbuild made is kept on disk (dist/cache/imports/, emptied by every
// build of dist/) with the SHA-256 of each file it read: the next process —
// a card worker, most often — takes it from there without starting esbuild,
// and an edit to any of those files compiles again.
describe('__bsImport on-disk cache', () => {
  const entryOf = (file: string) =>
    join(
      ROOT,
      'dist/cache/imports',
      `${createHash('sha256').update(pathToFileURL(file).href).digest('hex').slice(0, 32)}.json`,
    );
  const made: string[] = [];
  // Written a minute ago: files edited within a couple of seconds of a compile are never cached.
  const settled = (...files: string[]) => {
    for (const f of files) utimesSync(f, Date.now() / 1000 - 60, Date.now() / 1000 - 60);
  };
  afterAll(() => {
    for (const f of made) rmSync(f, { force: true });
  });

  it('a fresh process takes the cached module; an edited import, or a torn entry, compiles again', () => {
    const file = join(dir, 'cached-layout.ts');
    const part = join(dir, '_cached-part.ts');
    writeFileSync(part, "export const word: string = 'first';\n");
    writeFileSync(
      file,
      "import { word } from './_cached-part.ts';\nexport default (d: { n: number }) => word + ':' + d.n;\n",
    );
    settled(part, file);
    const entry = entryOf(file);
    made.push(entry);
    rmSync(entry, { force: true });

    expect(importIn(file).value).toBe('first:20');
    const kept = JSON.parse(readFileSync(entry, 'utf8')) as { url: string; inputs: Record<string, string> };
    expect(Object.keys(kept.inputs).sort()).toEqual([part, file].sort());

    // Unchanged files: the cached module is what runs (a stand-in proves it was not compiled again).
    const standIn = `data:text/javascript;base64,${Buffer.from('export default () => "from the cache";').toString('base64')}`;
    writeFileSync(entry, JSON.stringify({ ...kept, file: pathToFileURL(file).href, url: standIn }));
    expect(importIn(file).value).toBe('from the cache');

    // An imported file edited: compiled again, and the entry replaced.
    writeFileSync(part, "export const word: string = 'second';\n");
    settled(part);
    expect(importIn(file).value).toBe('second:20');
    expect(readFileSync(entry, 'utf8')).not.toContain(standIn);

    // A torn entry is a miss, not an error.
    writeFileSync(entry, '{"file":');
    expect(importIn(file).value).toBe('second:20');
    expect(importIn(file).tsxRegistered).toBe(false);
  });

  it('a file that needs tsx is remembered as such, and still runs through tsx', () => {
    const file = join(dir, 'cached-with-package.ts');
    writeFileSync(
      file,
      "import { parse } from 'yaml';\nexport default (d: { n: number }): number => parse('v: ' + String(d.n)).v;\n",
    );
    settled(file);
    made.push(entryOf(file));
    for (let i = 0; i < 2; i++) {
      const r = importIn(file);
      expect(r.value).toBe(20);
      expect(r.tsxRegistered).toBe(true);
    }
    expect(JSON.parse(readFileSync(entryOf(file), 'utf8')).url).toBe('');
  });

  it('keeps nothing when a file it read may have changed during the compile (modified just now)', () => {
    const file = join(dir, 'fresh-layout.ts');
    writeFileSync(file, 'export default (d: { n: number }) => d.n * 3;\n');
    const entry = entryOf(file);
    made.push(entry);
    rmSync(entry, { force: true });
    expect(importIn(file).value).toBe(60);
    expect(existsSync(entry)).toBe(false);
    // Once it has settled, the next process keeps it.
    settled(file);
    expect(importIn(file).value).toBe(60);
    expect(existsSync(entry)).toBe(true);
  });
});
